//! The contract suites, written once: every adapter of a port must pass the
//! suite of that port. Runner files (native, in-browser, per adapter) call
//! [`contract_suite!`] with factories for fresh, empty recorders.
//! (`mod.rs` because each file directly under `tests/` is a test crate.)

#![allow(dead_code)]

pub mod aggregate_recorder;
pub mod application;
pub mod application_recorder;
pub mod application_snapshots;
pub mod dog;
pub mod evolution;
pub mod projection;
pub mod snapshot_recorder;
pub mod sync_recorder;
pub mod tracking_recorder;
pub mod view_recorder;
pub mod workflow;

use tributary::persistence::StoredEvent;
use uuid::Uuid;

/// A stored event with recognisable state bytes.
pub fn stored(originator_id: Uuid, originator_version: u64, topic: &str) -> StoredEvent {
    StoredEvent { originator_id, originator_version, topic: topic.into(), state: format!("{{\"v\":{originator_version}}}").into_bytes() }
}

/// Calls `$run!(module_alias, suite_module, factory, tests...)` once per suite.
/// The factories are expressions giving a fresh adapter (paths fully qualified).
#[allow(unused_macros)]
macro_rules! contract_suite {
    ($run:ident, events: $events:expr, snapshots: $snapshots:expr, tracking: $tracking:expr, app: $app:expr, views: $views:expr, projection: $projection:expr, sync: $sync:expr) => {
        $run!(
            sync_recorder,
            sync_recorder,
            $sync,
            pulled_events_removals_position_rows_and_cleared_views_go_in_together,
            a_removed_events_id_is_never_given_again,
            a_sync_write_that_cannot_be_made_writes_nothing,
            a_removal_that_would_leave_a_later_version_of_its_aggregate_is_a_conflict_and_writes_nothing,
            a_first_commit_of_a_view_read_before_sync_cleared_it_is_stale,
            a_commit_read_between_two_clears_is_stale_though_the_view_is_back_at_0
        );
        $run!(
            view_recorder,
            view_recorder,
            $views,
            rows_and_position_commit_together,
            a_commit_from_a_stale_position_writes_nothing,
            index_queries_are_ordered_and_bounded,
            clearing_a_view_drops_its_rows_and_position_only,
            every_bound_of_a_range_holds_an_empty_range_is_empty_and_a_limit_of_0_gives_none
        );
        $run!(
            projection,
            projection,
            $projection,
            a_view_applies_every_event_exactly_once_across_restarts,
            a_batch_read_ahead_never_hides_events_recorded_since,
            a_handler_error_stops_the_view_at_the_last_good_position_until_fixed,
            a_rebuild_gives_the_same_rows_and_reports_progress,
            a_view_defined_anew_with_other_indexes_or_topics_is_built_again,
            of_two_live_definitions_of_a_view_the_newer_keeps_it_and_the_older_stops,
            wait_resolves_once_a_view_reaches_a_position_and_times_out_otherwise,
            a_process_application_counts_tricks_exactly_once,
            a_system_runs_a_follower_of_a_follower_until_the_whole_pipe_caught_up,
            a_tracked_notification_is_never_processed_again,
            a_process_application_saves_a_notifications_events_and_tracking_whole_or_not_at_all,
            a_view_of_a_renamed_topic_takes_in_the_events_stored_under_its_old_name,
            a_process_application_of_a_renamed_topic_processes_the_events_stored_under_its_old_name
        );
        $run!(
            workflow,
            workflow,
            $projection,
            the_views_follow_a_workflow_run_from_start_to_end,
            a_failing_task_fails_its_run_and_unknown_tasks_are_skipped,
            task_statistics_give_failure_rates_and_mean_durations_per_task_name,
            views_rebuilt_from_10000_events_equal_the_views_built_incrementally,
            the_main_task_is_the_first_created_of_those_its_run_holds_now_as_biomero_names_it,
            a_job_id_shaped_like_a_private_key_leaves_the_other_tasks_rows_alone,
            a_huge_task_progress_gives_the_workflow_progress_biomero_writes,
            a_task_name_that_python_lowers_to_a_known_one_counts_as_that_task,
            events_whose_fields_a_workflow_aggregate_cannot_read_are_refused_and_nothing_is_written
        );
        $run!(
            events_as_aggregate_recorder,
            aggregate_recorder,
            $events,
            insert_then_select_returns_events_in_version_order,
            select_honours_gt_lte_desc_and_limit,
            select_of_an_unknown_aggregate_is_empty,
            state_bytes_round_trip_unchanged,
            insert_at_a_taken_version_conflicts_naming_the_aggregate_and_writes_nothing,
            a_batch_repeating_a_position_conflicts_and_writes_nothing,
            invalid_records_are_refused_before_anything_is_written,
            version_zero_is_a_position_like_any_other
        );
        $run!(
            snapshots_as_aggregate_recorder,
            aggregate_recorder,
            $snapshots,
            insert_then_select_returns_events_in_version_order,
            select_honours_gt_lte_desc_and_limit,
            insert_at_a_taken_version_conflicts_naming_the_aggregate_and_writes_nothing,
            invalid_records_are_refused_before_anything_is_written,
            version_zero_is_a_position_like_any_other
        );
        $run!(
            application_recorder,
            application_recorder,
            $events,
            notification_ids_count_from_one_in_commit_order,
            a_conflicting_insert_takes_no_notification_id,
            select_notifications_honours_start_limit_stop_and_topics,
            max_notification_id_is_none_then_the_newest,
            record_writes_events_snapshots_and_tracking_together,
            a_recording_with_a_duplicate_tracking_record_writes_nothing,
            a_recording_with_a_taken_snapshot_position_writes_nothing,
            append_hands_prepare_the_newest_events_and_inserts_what_it_makes,
            an_append_whose_prepare_fails_or_conflicts_writes_nothing,
            notifications_with_head_give_the_newest_id_they_were_read_at
        );
        $run!(snapshot_recorder, snapshot_recorder, $snapshots, prune_keeps_the_newest_k_of_that_aggregate_only);
        $run!(
            tracking_recorder,
            tracking_recorder,
            $tracking,
            max_tracking_id_is_kept_per_application,
            a_duplicate_tracking_record_is_a_typed_error,
            a_position_at_or_below_the_newest_is_a_duplicate,
            invalid_tracking_records_are_refused,
            wait_resolves_once_the_position_is_recorded,
            wait_times_out_with_a_typed_error
        );
        $run!(
            application,
            application,
            $app,
            save_returns_notification_ids_and_get_returns_the_latest_state,
            save_at_a_taken_version_raises_conflict_and_writes_nothing,
            a_two_aggregate_save_where_one_conflicts_writes_neither,
            state_at_a_version_and_at_a_time,
            state_at_a_time_far_into_a_long_history,
            bad_input_gives_clear_errors_and_writes_nothing,
            a_corrupt_stored_record_is_a_typed_error,
            sections_follow_the_python_rules,
            record_by_name_creates_appends_and_checks_expected_versions,
            record_by_name_refuses_bad_requests_and_writes_nothing,
            a_batch_past_the_last_version_is_a_typed_error_not_an_overflow
        );
        $run!(
            application_snapshots,
            application_snapshots,
            $app,
            replay_from_snapshots_equals_full_replay_at_every_version_of_1000,
            due_snapshots_commit_with_their_events_or_not_at_all,
            get_starts_from_the_latest_snapshot_at_or_below_the_version,
            snapshots_are_pruned_to_the_newest_k,
            a_type_counting_from_0_is_snapshotted_from_its_first_event,
            a_state_holding_a_reserved_key_is_a_handler_error_when_snapshotted_and_writes_nothing
        );
        $run!(
            evolution,
            evolution,
            $app,
            a_v1_event_and_a_v1_snapshot_are_upcast_on_read,
            an_unknown_topic_without_upcaster_is_a_clear_error_and_a_rename_reads_it,
            a_renamed_type_reads_its_old_events_and_snapshots_as_python_resolves_them,
            an_upcaster_returning_a_reserved_key_is_a_handler_error_and_a_stored_one_is_corrupt,
            a_snapshot_from_a_newer_release_is_passed_over_and_the_events_replayed
        );
    };
}

/// Every contract suite on fresh in-memory adapters, for a runner macro.
#[allow(unused_macros)]
macro_rules! memory_suite {
    ($run:ident) => {
        contract_suite!($run,
            events: std::rc::Rc::new(tributary::persistence::MemoryApplicationRecorder::new()),
            snapshots: tributary::persistence::ApplicationRecorder::snapshots(&tributary::persistence::MemoryApplicationRecorder::new()),
            tracking: std::rc::Rc::new(tributary::persistence::MemoryApplicationRecorder::new()),
            app: crate::contract::application::Stores::memory(),
            views: std::rc::Rc::new(tributary::persistence::MemoryApplicationRecorder::new()),
            projection: crate::contract::projection::ProjectionStores::memory(),
            sync: std::rc::Rc::new(tributary::persistence::MemoryApplicationRecorder::new()));
    };
}

/// Every contract suite on an adapter whose one recorder serves every port,
/// each test on a fresh one made by `$fresh`, for a runner macro.
#[allow(unused_macros)]
macro_rules! one_recorder_suite {
    ($run:ident, $fresh:expr) => {
        contract_suite!($run,
            events: std::rc::Rc::new($fresh),
            snapshots: tributary::persistence::ApplicationRecorder::snapshots(&$fresh),
            tracking: std::rc::Rc::new($fresh),
            app: crate::contract::application::Stores::new(std::rc::Rc::new($fresh)),
            views: std::rc::Rc::new($fresh),
            projection: crate::contract::projection::ProjectionStores::of(std::rc::Rc::new($fresh)),
            sync: std::rc::Rc::new($fresh));
    };
}

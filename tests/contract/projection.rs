//! Projection and process-application scenarios, over any adapter that keeps
//! both the log and the views.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tributary::persistence::{ApplicationRecorder, MemoryApplicationRecorder, RowQuery, Tracking, ViewDefinition, ViewRecorder};
use tributary::projection::{Handler, Notified, ProjectionRunner, Staged};
use tributary::system::{Policy, ProcessApplication, System};
use tributary::{Aggregate, Application, DomainEvent, Error, EventType, NewEvent, Result, Root};

use super::dog::Dog;

/// A fresh adapter seen as both ports.
#[derive(Clone)]
pub struct ProjectionStores {
    pub events: Rc<dyn ApplicationRecorder>,
    pub views: Rc<dyn ViewRecorder>,
}

impl ProjectionStores {
    pub fn of<R: ApplicationRecorder + ViewRecorder + 'static>(recorder: Rc<R>) -> Self {
        ProjectionStores { events: recorder.clone(), views: recorder }
    }

    pub fn memory() -> Self {
        Self::of(Rc::new(MemoryApplicationRecorder::new()))
    }

    fn app(&self) -> Application {
        let mut app = Application::new("dogschool", self.events.clone());
        app.register::<Dog>();
        app
    }
}

/// Counts tricks by name; fails on one trick while `fail_on` names it.
#[derive(Default)]
struct TrickCounts {
    fail_on: RefCell<Option<String>>,
    handled: Cell<usize>,
}

#[async_trait(?Send)]
impl Handler for TrickCounts {
    async fn handle(&self, event: &Notified, view: &Staged) -> Result<()> {
        self.handled.set(self.handled.get() + 1);
        let trick: String = event.event.field("trick")?;
        let count = view.get(&trick).await?.and_then(|row| row["count"].as_u64()).unwrap_or(0);
        view.put(trick.clone(), json!({ "count": count + 1 }));
        if self.fail_on.borrow().as_deref() == Some(trick.as_str()) {
            return Err(Error::Handler(format!("cannot count {trick}")));
        }
        Ok(())
    }
}

fn trick_counts() -> ViewDefinition {
    ViewDefinition::new("trickCounts", &["Dog.TrickAdded"], &["count"]).unwrap()
}

fn runner(stores: &ProjectionStores, handler: Rc<TrickCounts>, batch: usize) -> ProjectionRunner {
    ProjectionRunner::new(stores.app(), stores.views.clone(), trick_counts(), handler).with_batch_size(batch)
}

/// A session of the trick counts as a page defines them, with these indexes.
fn session(stores: &ProjectionStores, indexes: &[&str], handler: Rc<TrickCounts>) -> ProjectionRunner {
    let definition = ViewDefinition::new("trickCounts", &["Dog.TrickAdded"], indexes).unwrap();
    ProjectionRunner::new(stores.app(), stores.views.clone(), definition, handler)
}

/// Registers `dogs` dogs and teaches them `tricks` tricks from `names`, in turn.
async fn school(app: &Application, dogs: usize, tricks: usize, names: &[&str]) {
    let mut new = Vec::new();
    for d in 0..dogs {
        let id = Dog::create_id(&format!("dog {d} {}", uuid::Uuid::new_v4()));
        new.push(NewEvent {
            aggregate_type: "Dog".into(),
            id: Some(id),
            event: "Registered".into(),
            payload: json!({"name": d}),
            expected_version: None,
        });
        for t in 0..tricks {
            let payload = json!({ "trick": names[(d * tricks + t) % names.len()] });
            new.push(NewEvent { aggregate_type: "Dog".into(), id: Some(id), event: "TrickAdded".into(), payload, expected_version: None });
        }
    }
    app.record(&new).await.unwrap();
}

async fn counts(stores: &ProjectionStores) -> Vec<(String, Value)> {
    stores
        .views
        .query_rows("trickCounts", &RowQuery::default())
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.key, r.value["count"].clone()))
        .collect()
}

pub async fn a_view_applies_every_event_exactly_once_across_restarts(stores: ProjectionStores) {
    // given 60 tricks of 3 kinds, then a registration (a topic the view ignores)
    let app = stores.app();
    school(&app, 6, 10, &["sit", "beg", "roll"]).await;
    school(&app, 1, 0, &[]).await;
    // when a runner stops after two batches (a reload in the middle of a catch-up)
    let first = Rc::new(TrickCounts::default());
    let stopped = runner(&stores, first.clone(), 7);
    let step = stopped.step().await.unwrap();
    assert_eq!((step.applied, step.caught_up()), (7, false));
    stopped.step().await.unwrap();
    assert_eq!(first.handled.get(), 14);
    drop(stopped);
    // then a new runner resumes after the last committed batch
    let second = Rc::new(TrickCounts::default());
    let resumed = runner(&stores, second.clone(), 7);
    let head = app.max_notification_id().await.unwrap();
    assert_eq!(resumed.catch_up(|_| {}).await.unwrap(), head, "the position reaches the head past ignored topics");
    assert_eq!(second.handled.get(), 46);
    assert_eq!(counts(&stores).await, vec![("beg".into(), json!(20)), ("roll".into(), json!(20)), ("sit".into(), json!(20))]);
    // and a runner with nothing new applies nothing; new events are followed
    assert_eq!(resumed.step().await.unwrap().applied, 0);
    school(&app, 1, 2, &["sit", "fetch"]).await;
    let step = resumed.step().await.unwrap();
    assert_eq!((step.applied, step.changed.clone()), (2, vec!["fetch".to_string(), "sit".to_string()]));
    assert_eq!(stores.views.get_row("trickCounts", "sit").await.unwrap(), Some(json!({"count": 21})));
    let fetch =
        stores.views.query_rows("trickCounts", &RowQuery::equal("count", tributary::persistence::IndexKey::Number(1.0))).await.unwrap();
    assert_eq!(fetch.iter().map(|r| r.key.as_str()).collect::<Vec<_>>(), vec!["fetch"]);
}

pub async fn a_batch_read_ahead_never_hides_events_recorded_since(stores: ProjectionStores) {
    // given 3 tricks (notifications 2..=4) and a runner of 2 events a batch
    let app = stores.app();
    school(&app, 1, 3, &["sit"]).await;
    let handler = Rc::new(TrickCounts::default());
    let view = runner(&stores, handler.clone(), 2);
    // when a first step handles a full batch (reading the last one ahead)
    let step = view.step().await.unwrap();
    assert_eq!((step.position, step.head, step.caught_up()), (3, 4, false));
    // and a trick is recorded before the next step
    school(&app, 1, 1, &["sit"]).await;
    // then catching up takes in the new events too, not only the batch read ahead
    let head = app.max_notification_id().await.unwrap();
    assert_eq!(view.catch_up(|_| {}).await.unwrap(), head);
    assert_eq!(handler.handled.get(), 4);
    assert_eq!(counts(&stores).await, vec![("sit".into(), json!(4))]);
}

pub async fn a_handler_error_stops_the_view_at_the_last_good_position_until_fixed(stores: ProjectionStores) {
    let app = stores.app();
    school(&app, 1, 6, &["sit", "beg", "boom", "roll"]).await;
    let handler = Rc::new(TrickCounts::default());
    *handler.fail_on.borrow_mut() = Some("boom".into());
    let view = runner(&stores, handler.clone(), 100);
    // the third trick (notification 4) fails: the two before it are committed
    let step = view.step().await.unwrap();
    let failure = step.failed.clone().expect("a failure");
    assert_eq!((failure.notification_id, step.position, step.applied), (4, 3, 2));
    assert!(matches!(&failure.error, Error::Handler(m) if m == "cannot count boom"));
    assert_eq!(counts(&stores).await, vec![("beg".into(), json!(1)), ("sit".into(), json!(1))], "nothing of the failing event");
    assert!(matches!(view.catch_up(|_| {}).await, Err(Error::Handler(_))), "it fails again while unfixed");
    // once fixed, it resumes from there
    *handler.fail_on.borrow_mut() = None;
    assert_eq!(view.catch_up(|_| {}).await.unwrap(), 7);
    assert_eq!(
        counts(&stores).await,
        vec![("beg".into(), json!(2)), ("boom".into(), json!(1)), ("roll".into(), json!(1)), ("sit".into(), json!(2))]
    );
}

pub async fn a_rebuild_gives_the_same_rows_and_reports_progress(stores: ProjectionStores) {
    let app = stores.app();
    school(&app, 10, 20, &["sit", "beg", "roll", "stay", "fetch"]).await;
    let view = runner(&stores, Rc::new(TrickCounts::default()), 64);
    view.catch_up(|_| {}).await.unwrap();
    let incremental = counts(&stores).await;
    let mut progress = Vec::new();
    let head = view.rebuild(|step| progress.push((step.position, step.head))).await.unwrap();
    assert_eq!(counts(&stores).await, incremental);
    assert_eq!(head, 210);
    assert!(progress.len() >= 4 && progress.windows(2).all(|w| w[0].0 < w[1].0), "{progress:?}");
    assert_eq!(progress.last(), Some(&(210, 210)));
}

pub async fn a_view_defined_anew_with_other_indexes_or_topics_is_built_again(stores: ProjectionStores) {
    let app = stores.app();
    school(&app, 1, 4, &["sit", "beg"]).await;
    let twice = || RowQuery::equal("count", tributary::persistence::IndexKey::Number(2.0));
    // given a view built without indexes
    let first = Rc::new(TrickCounts::default());
    session(&stores, &[], first.clone()).catch_up(|_| {}).await.unwrap();
    assert_eq!(first.handled.get(), 4);
    // when a later session indexes its counts: it is built again, so every row is in the index
    let second = Rc::new(TrickCounts::default());
    session(&stores, &["count", "trick"], second.clone()).catch_up(|_| {}).await.unwrap();
    assert_eq!(second.handled.get(), 4, "built again");
    let rows = stores.views.query_rows("trickCounts", &twice()).await.unwrap();
    assert_eq!(rows.iter().map(|r| r.key.as_str()).collect::<Vec<_>>(), vec!["beg", "sit"]);
    assert_eq!(counts(&stores).await, vec![("beg".into(), json!(2)), ("sit".into(), json!(2))], "nothing counted twice");
    // and a session with the same topics and indexes (in another order) resumes, building nothing again
    school(&app, 1, 1, &["sit"]).await;
    let third = Rc::new(TrickCounts::default());
    session(&stores, &["trick", "count"], third.clone()).catch_up(|_| {}).await.unwrap();
    assert_eq!(third.handled.get(), 1);
    assert_eq!(counts(&stores).await, vec![("beg".into(), json!(2)), ("sit".into(), json!(3))]);
    // nor does what says what built it show among the rows
    assert!(stores.views.query_rows("trickCounts", &RowQuery::default()).await.unwrap().iter().all(|r| !r.key.starts_with('\0')));
}

pub async fn of_two_live_definitions_of_a_view_the_newer_keeps_it_and_the_older_stops(stores: ProjectionStores) {
    // given a tab that built a view and one opened later with other indexes (a new release)
    let app = stores.app();
    school(&app, 1, 100, &["sit", "beg"]).await;
    let (old, new) = (Rc::new(TrickCounts::default()), Rc::new(TrickCounts::default()));
    let (old_tab, new_tab) = (session(&stores, &[], old.clone()), session(&stores, &["count"], new.clone()));
    old_tab.catch_up(|_| {}).await.unwrap();
    // when saves go on and each tab, told of them, takes its turn (forgetting what it knew)
    for _ in 0..3 {
        school(&app, 1, 1, &["sit"]).await;
        new_tab.forget();
        new_tab.catch_up(|_| {}).await.unwrap();
        old_tab.forget();
        let refused = old_tab.catch_up(|_| {}).await;
        assert!(matches!(&refused, Err(Error::Storage(m)) if m.contains("reload this page")), "{refused:?}");
    }
    // then the newer built it once, and the older stopped instead of building it again
    assert_eq!((old.handled.get(), new.handled.get()), (100, 103));
    assert_eq!(counts(&stores).await, vec![("beg".into(), json!(50)), ("sit".into(), json!(53))]);
}

pub async fn wait_resolves_once_a_view_reaches_a_position_and_times_out_otherwise(stores: ProjectionStores) {
    let app = stores.app();
    school(&app, 1, 3, &["sit"]).await;
    let view = runner(&stores, Rc::new(TrickCounts::default()), 100);
    let waiting = stores.views.wait("trickCounts", 4, 5_000);
    let (waited, caught_up) = futures::future::join(waiting, view.catch_up(|_| {})).await;
    waited.unwrap();
    assert_eq!(caught_up.unwrap(), 4);
    assert!(matches!(stores.views.wait("trickCounts", 5, 30).await, Err(Error::Timeout { .. })));
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Counter {
    name: String,
    count: u64,
}

impl Aggregate for Counter {
    const TYPE: &'static str = "Counter";
    const EVENTS: &'static [EventType] = &[EventType::new("Started"), EventType::new("Incremented")];

    fn apply(&mut self, event: &DomainEvent) -> Result<()> {
        match event.name() {
            "Started" => self.name = event.field("name")?,
            _ => self.count += 1,
        }
        Ok(())
    }
}

/// The tutorial's policy: count each trick in a counter of its own.
struct CountTricks;

#[async_trait(?Send)]
impl Policy for CountTricks {
    async fn process(&self, event: &Notified, counters: &Application) -> Result<Vec<DomainEvent>> {
        let trick: String = event.event.field("trick")?;
        let id = Counter::create_id(&trick);
        let mut counter = match counters.get::<Counter>(id).await {
            Ok(counter) => counter,
            Err(Error::NotFound(_)) => Root::create_with_id(id, "Started", json!({ "name": trick }))?,
            Err(error) => return Err(error),
        };
        counter.trigger("Incremented", json!({}))?;
        Ok(tributary::domain::Pending::pending_events(&counter).to_vec())
    }
}

async fn counter(counters: &Application, trick: &str) -> u64 {
    counters.get::<Counter>(Counter::create_id(trick)).await.map(|c| c.state().count).unwrap_or(0)
}

pub async fn a_process_application_counts_tricks_exactly_once(stores: ProjectionStores) {
    // the dog school leads (in memory); the counters follow, in the adapter under test
    let mut dogschool = Application::new("DogSchool", Rc::new(MemoryApplicationRecorder::new()));
    dogschool.register::<Dog>();
    let mut counters = Application::new("Counters", stores.events.clone());
    counters.register::<Counter>();
    let follower = || ProcessApplication::new(counters.clone(), Rc::new(CountTricks), &["Dog.TrickAdded"]);
    school(&dogschool, 3, 4, &["sit", "beg", "roll"]).await;
    // a follower that stops after 5 notifications (a crash), then the system runs
    let step = follower().step(&dogschool, 5).await.unwrap();
    assert_eq!((step.applied, step.caught_up(), step.failed), (5, false, None));
    let system = System::new(&[&["DogSchool", "Counters"]]).leader(dogschool.clone()).follower(follower());
    assert_eq!(system.run().await.unwrap(), 7);
    assert_eq!((counter(&counters, "sit").await, counter(&counters, "beg").await, counter(&counters, "roll").await), (4, 4, 4));
    // running again processes nothing; the position reached the leader's head
    assert_eq!(system.run().await.unwrap(), 0);
    assert_eq!(counters.recorder().max_tracking_id("DogSchool").await.unwrap(), Some(15));
    school(&dogschool, 1, 2, &["sit"]).await;
    assert_eq!(system.run().await.unwrap(), 2);
    assert_eq!(counter(&counters, "sit").await, 6);
    let mut counted = 0;
    for trick in ["sit", "beg", "roll"] {
        counted += counter(&counters, trick).await;
    }
    assert_eq!(counted, 14);
}

/// Counts every counter's increments in one counter, "all": a follower of a follower.
struct CountAll;

#[async_trait(?Send)]
impl Policy for CountAll {
    async fn process(&self, _event: &Notified, totals: &Application) -> Result<Vec<DomainEvent>> {
        let id = Counter::create_id("all");
        let mut total = match totals.get::<Counter>(id).await {
            Ok(total) => total,
            Err(Error::NotFound(_)) => Root::create_with_id(id, "Started", json!({ "name": "all" }))?,
            Err(error) => return Err(error),
        };
        total.trigger("Incremented", json!({}))?;
        Ok(tributary::domain::Pending::pending_events(&total).to_vec())
    }
}

pub async fn a_system_runs_a_follower_of_a_follower_until_the_whole_pipe_caught_up(stores: ProjectionStores) {
    let mut dogschool = Application::new("DogSchool", Rc::new(MemoryApplicationRecorder::new()));
    dogschool.register::<Dog>();
    let mut counters = Application::new("Counters", Rc::new(MemoryApplicationRecorder::new()));
    counters.register::<Counter>();
    let mut totals = Application::new("Totals", stores.events.clone());
    totals.register::<Counter>();
    // The totals' pipe first: it runs before the counters have anything, and again once they do.
    let system = System::new(&[&["Counters", "Totals"], &["DogSchool", "Counters"]])
        .leader(dogschool.clone())
        .follower(ProcessApplication::new(totals.clone(), Rc::new(CountAll), &["Counter.Incremented"]))
        .follower(ProcessApplication::new(counters.clone(), Rc::new(CountTricks), &["Dog.TrickAdded"]));
    school(&dogschool, 2, 3, &["sit", "beg"]).await;
    assert_eq!(system.run().await.unwrap(), 6 + 6, "six tricks counted, then six increments totalled");
    assert_eq!(counter(&totals, "all").await, 6);
    assert_eq!(system.run().await.unwrap(), 0);
}

pub async fn a_tracked_notification_is_never_processed_again(stores: ProjectionStores) {
    let mut dogschool = Application::new("DogSchool", Rc::new(MemoryApplicationRecorder::new()));
    dogschool.register::<Dog>();
    let mut counters = Application::new("Counters", stores.events.clone());
    counters.register::<Counter>();
    school(&dogschool, 1, 2, &["sit"]).await;
    let follower = ProcessApplication::new(counters.clone(), Rc::new(CountTricks), &["Dog.TrickAdded"]);
    assert_eq!(follower.step(&dogschool, 100).await.unwrap().applied, 2);
    let head = counters.max_notification_id().await.unwrap();
    // saving the effects of notification 2 again, as a second runner would, is refused whole
    let mut again = Root::<Counter>::create("Started", json!({ "name": "again" })).unwrap();
    again.trigger("Incremented", json!({})).unwrap();
    let tracking = Tracking { application_name: "DogSchool".into(), notification_id: 2 };
    let error = counters.save_tracked(tributary::domain::Pending::pending_events(&again), Some(&tracking)).await.unwrap_err();
    assert_eq!(error, Error::DuplicateTracking { application_name: "DogSchool".into(), notification_id: 2 });
    assert_eq!(counters.max_notification_id().await.unwrap(), head, "none of its events were written");
    assert!(counters.get::<Counter>(again.id()).await.is_err());
    assert_eq!(counter(&counters, "sit").await, 2);
}

/// Counts like [`CountTricks`], then also records an event at a version the
/// "sit" counter already has in storage: the adapter must refuse the whole write.
struct CountTwice;

#[async_trait(?Send)]
impl Policy for CountTwice {
    async fn process(&self, event: &Notified, counters: &Application) -> Result<Vec<DomainEvent>> {
        let mut events = CountTricks.process(event, counters).await?;
        let mut taken = events.last().cloned().expect("an increment");
        taken.originator_id = Counter::create_id("sit");
        taken.originator_version = 1;
        events.push(taken);
        Ok(events)
    }
}

pub async fn a_process_application_saves_a_notifications_events_and_tracking_whole_or_not_at_all(stores: ProjectionStores) {
    let mut dogschool = Application::new("DogSchool", Rc::new(MemoryApplicationRecorder::new()));
    dogschool.register::<Dog>();
    let mut counters = Application::new("Counters", stores.events.clone());
    counters.register::<Counter>();
    school(&dogschool, 1, 2, &["sit", "beg"]).await;
    let good = ProcessApplication::new(counters.clone(), Rc::new(CountTricks), &["Dog.TrickAdded"]);
    assert_eq!(good.step(&dogschool, 1).await.unwrap().applied, 1);
    let before = counters.max_notification_id().await.unwrap();
    // the policy's second event conflicts: neither its first event nor the tracking record is written
    let bad = ProcessApplication::new(counters.clone(), Rc::new(CountTwice), &["Dog.TrickAdded"]);
    let step = bad.step(&dogschool, 100).await.unwrap();
    let failure = step.failed.expect("a failure");
    assert_eq!((failure.notification_id, step.position, step.applied), (3, 2, 0));
    assert!(matches!(failure.error, Error::Conflict { .. }), "{:?}", failure.error);
    assert_eq!(counters.max_notification_id().await.unwrap(), before);
    assert_eq!(counters.recorder().max_tracking_id("DogSchool").await.unwrap(), Some(2));
    assert_eq!(counter(&counters, "beg").await, 0);
    // the good policy then processes it once
    assert_eq!(good.step(&dogschool, 100).await.unwrap().applied, 1);
    assert_eq!((counter(&counters, "sit").await, counter(&counters, "beg").await), (1, 1));
}

/// An event as an older release stored it, under the topic `Dog.TrickLearned`.
async fn learned_under_an_old_name(app: &Application, trick: &str) {
    let state = format!(r#"{{"timestamp":{{"_type_":"datetime_iso","_data_":"2030-01-01T00:00:00+00:00"}},"trick":"{trick}"}}"#);
    let old = tributary::persistence::StoredEvent {
        originator_id: uuid::Uuid::new_v4(),
        originator_version: 1,
        topic: "Dog.TrickLearned".into(),
        state: state.into_bytes(),
    };
    app.recorder().insert_events(&[old]).await.unwrap();
}

pub async fn a_view_of_a_renamed_topic_takes_in_the_events_stored_under_its_old_name(stores: ProjectionStores) {
    // given a trick stored under the event's old name, then one under its new name
    let mut app = stores.app();
    learned_under_an_old_name(&app, "sit").await;
    school(&app, 1, 1, &["sit"]).await;
    // when the application reads the old name as the new one
    app.registry_mut().rename("Dog.TrickLearned", "Dog.TrickAdded");
    let handler = Rc::new(TrickCounts::default());
    let view = ProjectionRunner::new(app.clone(), stores.views.clone(), trick_counts(), handler.clone());
    view.catch_up(|_| {}).await.unwrap();
    // then the view of "Dog.TrickAdded" counts both, as the aggregates do
    assert_eq!(handler.handled.get(), 2);
    assert_eq!(counts(&stores).await, vec![("sit".into(), json!(2))]);
}

pub async fn a_process_application_of_a_renamed_topic_processes_the_events_stored_under_its_old_name(stores: ProjectionStores) {
    let mut dogschool = Application::new("DogSchool", Rc::new(MemoryApplicationRecorder::new()));
    dogschool.register::<Dog>();
    learned_under_an_old_name(&dogschool, "sit").await;
    school(&dogschool, 1, 1, &["sit"]).await;
    dogschool.registry_mut().rename("Dog.TrickLearned", "Dog.TrickAdded");
    let mut counters = Application::new("Counters", stores.events.clone());
    counters.register::<Counter>();
    let follower = ProcessApplication::new(counters.clone(), Rc::new(CountTricks), &["Dog.TrickAdded"]);
    let system = System::new(&[&["DogSchool", "Counters"]]).leader(dogschool).follower(follower);
    assert_eq!(system.run().await.unwrap(), 2);
    assert_eq!(counter(&counters, "sit").await, 2);
}

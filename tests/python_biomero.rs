//! BIOMERO as a peer: its own classes replay the workflow events and read the
//! snapshots tributary records, and tributary reads the snapshots BIOMERO writes.

#![cfg(not(target_arch = "wasm32"))]

mod peer;

use std::rc::Rc;

use futures::executor::block_on;
use peer::{python_peer, python_peer_args};
use serde_json::{json, Value};
use tributary::persistence::{
    AggregateRecorder, ApplicationRecorder, EventQuery, MemoryApplicationRecorder, NotificationQuery, StoredEvent,
};
use tributary::{Application, At};
use uuid::Uuid;

/// BIOMERO's own classes replay what tributary's workflow domain recorded:
/// the topics, versions from 0, `originator_topic` and `uuid_hex` fields as
/// BIOMERO writes them.
#[test]
fn biomero_replays_workflow_events_tributary_recorded() {
    use tributary::workflow::{self, RunCommands, Task, TaskCommands, WorkflowRun};
    block_on(async {
        let recorder = Rc::new(MemoryApplicationRecorder::new());
        let mut app = Application::new("biomero", recorder.clone());
        workflow::register(&mut app);
        let mut run = WorkflowRun::initiate("cellpose", "nuclei ✓", 5, 7).unwrap();
        let mut task = Task::create(run.id(), "cellpose", "v1.2.7", json!({ "ids": [1, 2] }), json!({ "diameter": 30.5 })).unwrap();
        run.add_task(task.id()).unwrap();
        run.start_workflow().unwrap();
        task.start_task().unwrap();
        task.add_job_id(json!(17)).unwrap();
        task.update_task_status("RUNNING").unwrap();
        task.update_task_progress("43%").unwrap();
        task.complete_task("812 cells").unwrap();
        run.complete_workflow().unwrap();
        app.save(&mut [&mut task, &mut run]).await.unwrap();
        let lines: String = recorder
            .select_notifications(&NotificationQuery::new(1, 100))
            .await
            .unwrap()
            .iter()
            .map(|n| {
                let state = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &n.state);
                format!("{}\n", json!({ "originator_id": n.originator_id, "originator_version": n.originator_version, "topic": n.topic, "state_b64": state }))
            })
            .collect();
        let output = python_peer("biomero_replay.py", lines);
        let replayed: Value = serde_json::from_slice(&output.stdout).unwrap();
        let run_py = &replayed[run.id().to_string()];
        assert_eq!((&run_py["class"], &run_py["version"]), (&json!("WorkflowRun"), &json!(3)));
        assert_eq!((&run_py["name"], &run_py["user"], &run_py["group"]), (&json!("cellpose"), &json!(5), &json!(7)));
        assert_eq!(run_py["tasks"], json!([task.id().to_string()]));
        assert_eq!(run_py["uuid_typed"], json!(["tasks"]), "BIOMERO holds the task ids as UUIDs");
        let task_py = &replayed[task.id().to_string()];
        assert_eq!((&task_py["class"], &task_py["version"]), (&json!("Task"), &json!(5)));
        assert_eq!(task_py["workflow_id"], json!(run.id().to_string()));
        assert_eq!(task_py["uuid_typed"], json!(["workflow_id"]));
        assert_eq!((&task_py["job_ids"], &task_py["status"], &task_py["progress"]), (&json!([17]), &json!("RUNNING"), &json!("43%")));
        assert_eq!(
            (&task_py["input_data"], &task_py["params"], &task_py["result_message"]),
            (&json!({ "ids": [1, 2] }), &json!({ "diameter": 30.5 }), &json!("812 cells"))
        );
        // and tributary reads its own events back with the UUIDs as it wrote them
        assert_eq!(app.get::<WorkflowRun>(run.id()).await.unwrap().state().tasks, vec![task.id()]);
        assert_eq!(app.get::<Task>(task.id()).await.unwrap().state().workflow_id, Some(run.id()));
    });
}

/// Snapshots BIOMERO writes (its `None` descriptions and task versions, its
/// `UUID`s) are read as its events are: every version of every generated
/// aggregate gets the same state with the snapshots as from its events alone.
/// A `Task`'s snapshot is read as is; a `WorkflowRun`'s, without the status
/// BIOMERO does not keep, is passed over for the events.
#[test]
fn snapshots_biomero_wrote_read_as_its_events_do() {
    use tributary::workflow::{self, Task, WorkflowRun};
    block_on(async {
        for seed in 1..=6 {
            let output = python_peer_args("biomero_snapshots.py", &[&seed.to_string()], String::new());
            let (events_only, with_snapshots) = (Rc::new(MemoryApplicationRecorder::new()), Rc::new(MemoryApplicationRecorder::new()));
            let (mut versions, mut snapshots): (Vec<(Uuid, u64, bool)>, Vec<StoredEvent>) = (Vec::new(), Vec::new());
            for line in String::from_utf8(output.stdout).unwrap().lines() {
                let record: Value = serde_json::from_str(line).unwrap();
                let stored = StoredEvent {
                    originator_id: record["originator_id"].as_str().unwrap().parse().unwrap(),
                    originator_version: record["originator_version"].as_u64().unwrap(),
                    topic: record["topic"].as_str().unwrap().into(),
                    state: base64::Engine::decode(&base64::engine::general_purpose::STANDARD, record["state_b64"].as_str().unwrap())
                        .unwrap(),
                };
                if record["kind"] == "snapshot" {
                    with_snapshots.snapshots().insert_events(std::slice::from_ref(&stored)).await.unwrap();
                    snapshots.push(stored);
                    continue;
                }
                versions.push((stored.originator_id, stored.originator_version, stored.topic.contains("WorkflowRun.")));
                events_only.insert_events(std::slice::from_ref(&stored)).await.unwrap();
                with_snapshots.insert_events(&[stored]).await.unwrap();
            }
            let app = |recorder: &Rc<MemoryApplicationRecorder>| {
                let mut app = Application::new("biomero", recorder.clone());
                workflow::register(&mut app);
                app
            };
            let (events_only, with_snapshots) = (app(&events_only), app(&with_snapshots));
            for stored in snapshots {
                let snapshot = with_snapshots.mapper().to_snapshot(&stored).unwrap();
                let read = with_snapshots.registry().aggregate(&snapshot.aggregate_type).unwrap().fold.read_snapshot(snapshot.state);
                if snapshot.aggregate_type == "Task" {
                    let expected = events_only.replay(stored.originator_id, At::Version(stored.originator_version)).await.unwrap();
                    assert_eq!(read.unwrap(), expected.state, "seed {seed}: a Task's snapshot reads as its events");
                }
            }
            for (id, version, run) in versions {
                let at = At::Version(version);
                let context = format!("seed {seed}, {id} at {version}");
                if run {
                    let expected = events_only.get_at::<WorkflowRun>(id, at).await.unwrap();
                    let found = with_snapshots.get_at::<WorkflowRun>(id, at).await.unwrap_or_else(|e| panic!("{context}: {e}"));
                    assert_eq!(found.state(), expected.state(), "{context}");
                } else {
                    let expected = events_only.get_at::<Task>(id, at).await.unwrap();
                    let found = with_snapshots.get_at::<Task>(id, at).await.unwrap_or_else(|e| panic!("{context}: {e}"));
                    assert_eq!(found.state(), expected.state(), "{context}");
                }
                let (expected, found) = (events_only.replay(id, at).await.unwrap(), with_snapshots.replay(id, at).await.unwrap());
                assert_eq!(found.state, expected.state, "{context}: replayed as JSON");
                assert_eq!((found.created_on, found.modified_on), (expected.created_on, expected.modified_on), "{context}");
            }
        }
    });
}

/// BIOMERO's own classes read the snapshots tributary takes as they read its
/// events: the task ids and `workflow_id` as `UUID`s, every attribute equal.
#[test]
fn biomero_reads_snapshots_tributary_took_as_its_events() {
    use tributary::workflow::{self, RunCommands, Task, TaskCommands, WorkflowRun};
    block_on(async {
        let recorder = Rc::new(MemoryApplicationRecorder::new());
        let mut app = Application::new("biomero", recorder.clone());
        workflow::register(&mut app);
        let mut run = WorkflowRun::initiate("cellpose", "nuclei ✓", 5, 7).unwrap();
        let mut task = Task::create(run.id(), "cellpose", "v1.2.7", json!({ "ids": [1, 2] }), json!({ "diameter": 30.5 })).unwrap();
        let other = Uuid::new_v4();
        run.add_task(task.id()).unwrap();
        run.add_task(other).unwrap();
        run.start_workflow().unwrap();
        task.add_job_id(json!(17)).unwrap();
        task.update_task_status("RUNNING").unwrap();
        app.save(&mut [&mut task, &mut run]).await.unwrap();
        app.take_snapshot(run.id(), None).await.unwrap();
        app.take_snapshot(task.id(), None).await.unwrap();
        let line = |stored: &StoredEvent| {
            let state = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &stored.state);
            format!(
                "{}\n",
                json!({ "originator_id": stored.originator_id, "originator_version": stored.originator_version, "topic": stored.topic, "state_b64": state })
            )
        };
        let (mut events, mut snapshots) = (String::new(), String::new());
        for id in [run.id(), task.id()] {
            events.extend(recorder.select_events(id, EventQuery::all()).await.unwrap().iter().map(line));
            snapshots.extend(recorder.snapshots().select_events(id, EventQuery::all()).await.unwrap().iter().map(line));
        }
        let from_events: Value = serde_json::from_slice(&python_peer("biomero_replay.py", events).stdout).unwrap();
        let from_snapshots: Value = serde_json::from_slice(&python_peer("biomero_replay.py", snapshots).stdout).unwrap();
        for id in [run.id(), task.id()] {
            let (expected, found) = (&from_events[id.to_string()], &from_snapshots[id.to_string()]);
            for (key, value) in expected.as_object().unwrap() {
                assert_eq!(&found[key], value, "{id}: {key}");
            }
        }
        assert_eq!(from_snapshots[run.id().to_string()]["tasks"], json!([task.id().to_string(), other.to_string()]));
    });
}

/// A run snapshotted by tributary, then completed, then snapshotted by BIOMERO
/// (from tributary's snapshot and the event after it, as BIOMERO loads it):
/// tributary reads the run as completed. (BIOMERO's `WorkflowRun` keeps no
/// status: one in tributary's snapshot would be carried on, stale, by Python's.)
#[test]
fn a_run_biomero_snapshotted_after_tributary_did_reads_with_its_newest_status() {
    use tributary::workflow::{self, RunCommands, WorkflowRun};
    block_on(async {
        let recorder = Rc::new(MemoryApplicationRecorder::new());
        let mut app = Application::new("biomero", recorder.clone());
        workflow::register(&mut app);
        let mut run = WorkflowRun::initiate("cellpose", "nuclei", 5, 7).unwrap();
        run.add_task(Uuid::new_v4()).unwrap();
        run.start_workflow().unwrap();
        app.save(&mut [&mut run]).await.unwrap();
        app.take_snapshot(run.id(), None).await.unwrap();
        run.fail_workflow("out of memory").unwrap();
        app.save(&mut [&mut run]).await.unwrap();
        let line = |stored: &StoredEvent| {
            let state = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &stored.state);
            format!(
                "{}\n",
                json!({ "originator_id": stored.originator_id, "originator_version": stored.originator_version, "topic": stored.topic, "state_b64": state })
            )
        };
        let mut lines: String = recorder.snapshots().select_events(run.id(), EventQuery::all()).await.unwrap().iter().map(line).collect();
        lines.extend(recorder.select_events(run.id(), EventQuery { gt: Some(2), ..EventQuery::all() }).await.unwrap().iter().map(line));
        let output = python_peer_args("biomero_replay.py", &["--snapshot"], lines);
        let record: Value = serde_json::from_slice(&output.stdout).unwrap();
        let theirs = StoredEvent {
            originator_id: run.id(),
            originator_version: record["originator_version"].as_u64().unwrap(),
            topic: record["topic"].as_str().unwrap().into(),
            state: base64::Engine::decode(&base64::engine::general_purpose::STANDARD, record["state_b64"].as_str().unwrap()).unwrap(),
        };
        assert_eq!(theirs.originator_version, 3);
        recorder.snapshots().insert_events(&[theirs]).await.unwrap();
        let read = app.get::<WorkflowRun>(run.id()).await.unwrap();
        assert_eq!((read.state().status.as_str(), read.state().error_message.as_deref()), ("FAILED", Some("out of memory")));
        assert_eq!(read.state(), run.state());
    });
}

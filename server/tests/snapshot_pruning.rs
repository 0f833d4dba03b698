//! Pruning snapshots is housekeeping after a save has committed: a prune that
//! fails (here SQLite refusing the delete) must not turn a saved save into an error.

use std::rc::Rc;

use serde_json::json;
use tributary::domain::Pending;
use tributary::persistence::{EventQuery, NotificationQuery};
use tributary::{Application, NewEvent};
use tributary_server::sqlite::SqliteRecorder;

#[path = "../../tests/contract/dog.rs"]
mod dog;

#[test]
fn a_save_whose_snapshot_pruning_fails_is_still_saved_once() {
    futures::executor::block_on(async {
        // given a dog school on SQLite that snapshots every 2 versions and keeps 1,
        // where deleting a snapshot fails (as a disk or lock error would)
        let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("pruning-{}.sqlite", uuid::Uuid::new_v4()));
        let recorder = SqliteRecorder::open(&path).unwrap();
        rusqlite::Connection::open(&path)
            .unwrap()
            .execute_batch("CREATE TRIGGER no_pruning BEFORE DELETE ON stored_snapshots BEGIN SELECT RAISE(FAIL, 'disk I/O error'); END;")
            .unwrap();
        let mut app = Application::new("dogschool", Rc::new(recorder));
        app.register::<dog::Dog>();
        app.snapshot_every("Dog", 2).unwrap().keep_snapshots(1).unwrap();
        let mut fido = tributary::Root::<dog::Dog>::create("Registered", json!({ "name": "Fido" })).unwrap();
        fido.trigger("TrickAdded", json!({ "trick": "sit" })).unwrap();
        app.save(&mut [&mut fido]).await.unwrap();
        // when saves reach versions 4 and 6, so that older snapshots are due to go
        for trick in ["beg", "roll", "stay", "fetch"] {
            fido.trigger("TrickAdded", json!({ "trick": trick })).unwrap();
            app.save(&mut [&mut fido]).await.unwrap();
            assert!(fido.pending_events().is_empty());
        }
        let id = fido.id();
        let add = || NewEvent {
            aggregate_type: "Dog".into(),
            id: Some(id),
            event: "TrickAdded".into(),
            payload: json!({ "trick": "x" }),
            expected_version: None,
        };
        app.record(&[add(), add()]).await.unwrap();
        // then every event went in once, and the snapshots are all still there
        assert_eq!(app.notifications(&NotificationQuery::new(1, 100)).await.unwrap().len(), 8);
        assert_eq!(app.get::<dog::Dog>(id).await.unwrap().version(), 8);
        let kept = app.recorder().snapshots().select_events(id, EventQuery::all()).await.unwrap();
        assert_eq!(kept.iter().map(|s| s.originator_version).collect::<Vec<_>>(), vec![2, 4, 6, 8]);
    });
}

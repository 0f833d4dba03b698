//! The sync tests on SQLite (the server's default storage): the bodies are in
//! `syncing/` (PostgreSQL runs them too, in `postgres_sync.rs`); and a hostile
//! server, which involves no storage of the server's, here only.

#[path = "../../tests/contract/dog.rs"]
mod dog;
mod support;
#[macro_use]
mod syncing;

use futures::executor::block_on;
use support::{data_folder, Server};
use syncing::devices::{device, events, register};
use tributary::persistence::EventQuery;

sync_suite!(|test: &str| Server::start(&data_folder(test), &[]));

#[test]
fn a_hostile_server_fails_the_sync_and_changes_nothing_local() {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}/acme/dogschool", listener.local_addr().unwrap());
    const REPLIES: [&str; 6] = [
        "not json",
        "[{\"id\": 1}]",
        "[{\"id\": 2, \"originator_id\": \"x\", \"originator_version\": 1, \"topic\": \"Dog.Registered\", \"state\": \"e30=\"}]",
        "[{\"id\": 3, \"originator_id\": \"12345678123456781234567812345678\", \"originator_version\": 1, \"topic\": \"Dog.Registered\", \"state\": \"!!\"}]",
        "[{\"id\": 5, \"originator_id\": \"12345678123456781234567812345678\", \"originator_version\": 1, \"topic\": \"Dog.Registered\", \"state\": \"e30=\"}, {\"id\": 4, \"originator_id\": \"12345678123456781234567812345678\", \"originator_version\": 2, \"topic\": \"Dog.Registered\", \"state\": \"e30=\"}]",
        "{\"error\": \"x\"}",
    ];
    std::thread::spawn(move || {
        for (stream, reply) in listener.incoming().zip(REPLIES.iter().cycle()) {
            let mut stream = stream.unwrap();
            let mut buffer = [0u8; 4096];
            let _ = stream.read(&mut buffer);
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{reply}",
                reply.len()
            );
        }
    });
    block_on(async {
        let one = device(&base);
        let dog = register(&one, "Fido").await;
        let before = events(&one.app).await;
        for _ in 0..REPLIES.len() {
            let error = one.sync.pull().await.unwrap_err();
            assert_eq!(error.name(), "SyncError", "{error}");
        }
        assert_eq!(events(&one.app).await, before);
        assert_eq!(one.app.events(dog, EventQuery::all()).await.unwrap().len(), 1);
    });
}

/// A device's log as its sync client sees it, where a save of the device's
/// own lands right after the client has read which events are pending: as a
/// save in another tab, or in this one, while a pull is being written.
struct SavedMeanwhile {
    log: std::rc::Rc<tributary::persistence::MemoryApplicationRecorder>,
    save: std::cell::RefCell<Option<tributary::persistence::StoredEvent>>,
}

mod meanwhile {
    use std::rc::Rc;

    use async_trait::async_trait;
    use serde_json::Value;
    use tributary::persistence::*;
    use tributary::Result;
    use uuid::Uuid;

    use super::SavedMeanwhile;

    #[async_trait(?Send)]
    impl AggregateRecorder for SavedMeanwhile {
        async fn insert_events(&self, events: &[StoredEvent]) -> Result<Vec<u64>> {
            self.log.insert_events(events).await
        }
        async fn select_events(&self, originator_id: Uuid, query: EventQuery) -> Result<Vec<StoredEvent>> {
            self.log.select_events(originator_id, query).await
        }
    }

    #[async_trait(?Send)]
    impl TrackingRecorder for SavedMeanwhile {
        async fn insert_tracking(&self, tracking: &Tracking) -> Result<()> {
            self.log.insert_tracking(tracking).await
        }
        async fn max_tracking_id(&self, application_name: &str) -> Result<Option<u64>> {
            self.log.max_tracking_id(application_name).await
        }
    }

    #[async_trait(?Send)]
    impl ApplicationRecorder for SavedMeanwhile {
        async fn record(&self, recording: Recording<'_>) -> Result<Vec<u64>> {
            self.log.record(recording).await
        }
        fn snapshots(&self) -> Rc<dyn SnapshotRecorder> {
            self.log.snapshots()
        }
        async fn select_notifications(&self, query: &NotificationQuery) -> Result<Vec<Notification>> {
            let read = self.log.select_notifications(query).await?;
            let saved = self.save.borrow_mut().take();
            if let Some(event) = saved {
                self.log.insert_events(&[event]).await?;
            }
            Ok(read)
        }
        async fn max_notification_id(&self) -> Result<Option<u64>> {
            self.log.max_notification_id().await
        }
    }

    #[async_trait(?Send)]
    impl ViewRecorder for SavedMeanwhile {
        async fn commit_view(&self, view: &ViewDefinition, changes: &RowChanges, from: Option<u64>, tracking: &Tracking) -> Result<()> {
            self.log.commit_view(view, changes, from, tracking).await
        }
        async fn get_row(&self, view: &str, key: &str) -> Result<Option<Value>> {
            self.log.get_row(view, key).await
        }
        async fn query_rows(&self, view: &str, query: &RowQuery) -> Result<Vec<Row>> {
            self.log.query_rows(view, query).await
        }
        async fn clear_view(&self, view: &str) -> Result<()> {
            self.log.clear_view(view).await
        }
    }

    #[async_trait(?Send)]
    impl SyncRecorder for SavedMeanwhile {
        async fn write_sync(&self, write: SyncWrite<'_>) -> Result<Vec<u64>> {
            self.log.write_sync(write).await
        }
    }
}

#[test]
fn a_save_made_while_a_pull_takes_out_lost_events_is_kept_aside_with_them_not_pushed_on_the_servers() {
    use syncing::devices::trick;

    let server = Server::start(&data_folder("saved-meanwhile"), &[]);
    let url = server.app("acme", "dogschool");
    block_on(async {
        let (one, fido, two, meanwhile) = fido_on_two_devices(&url).await;
        // two teaches Fido "beg" (v2) offline; one teaches "sit" (v2) and pushes first
        two.app.record(&[trick(fido, "beg")]).await.unwrap();
        let copy = device(&url);
        copy.sync.round(&mut |_| {}).await.unwrap();
        copy.app.record(&[trick(fido, "beg")]).await.unwrap();
        copy.app.record(&[trick(fido, "roll")]).await.unwrap();
        let roll = copy.app.mapper().to_stored_event(&copy.app.events(fido, EventQuery::all()).await.unwrap().pop().unwrap()).unwrap();
        one.app.record(&[trick(fido, "sit")]).await.unwrap();
        one.sync.round(&mut |_| {}).await.unwrap();
        // two's pull meets the conflict; "roll" (v3, on two's "beg") is saved meanwhile
        *meanwhile.save.borrow_mut() = Some(roll);
        two.sync.round(&mut |_| {}).await.unwrap();
        let on_server = device(&url);
        on_server.sync.round(&mut |_| {}).await.unwrap();
        let tricks = on_server.app.get::<dog::Dog>(fido).await.unwrap().state().tricks.clone();
        assert_eq!(tricks, vec!["sit"], "nothing made on two's lost \"beg\" reached the server");
        assert_eq!(two.app.get::<dog::Dog>(fido).await.unwrap().state().tricks, vec!["sit"]);
        let conflicts = two.sync.conflicts().await.unwrap();
        let kept: Vec<_> = conflicts.iter().flat_map(|c| c.local.iter().map(|e| e.payload["trick"].clone())).collect();
        assert_eq!(kept, vec![serde_json::json!("beg"), serde_json::json!("roll")], "both kept aside, nothing lost");
    });
}

/// Fido, registered by one device and synced by it and by a second one whose
/// saves [`SavedMeanwhile`] can time.
async fn fido_on_two_devices(url: &str) -> (syncing::devices::Device, uuid::Uuid, syncing::devices::Device, std::rc::Rc<SavedMeanwhile>) {
    let one = device(url);
    let fido = register(&one, "Fido").await;
    one.sync.round(&mut |_| {}).await.unwrap();
    let (two, meanwhile) = saving_meanwhile(url);
    two.sync.round(&mut |_| {}).await.unwrap();
    (one, fido, two, meanwhile)
}

/// A device whose sync client reads its log through [`SavedMeanwhile`].
fn saving_meanwhile(url: &str) -> (syncing::devices::Device, std::rc::Rc<SavedMeanwhile>) {
    use std::rc::Rc;
    use tributary::sync::{SyncClient, SyncOptions};

    let log = Rc::new(tributary::persistence::MemoryApplicationRecorder::new());
    let mut app = tributary::Application::new("dogschool", log.clone());
    app.register::<dog::Dog>();
    let meanwhile = Rc::new(SavedMeanwhile { log, save: Default::default() });
    let options = SyncOptions { token: Some(support::TOKEN.into()), ..SyncOptions::new(url) };
    let sync = SyncClient::new(app.clone(), meanwhile.clone(), Rc::new(support::Ureq), options).unwrap();
    (syncing::devices::Device { app, sync }, meanwhile)
}

#[test]
fn a_save_made_while_a_pull_records_the_servers_event_at_its_version_is_a_conflict_kept_not_a_failed_round() {
    use syncing::devices::trick;

    let server = Server::start(&data_folder("saved-meanwhile-same-version"), &[]);
    let url = server.app("acme", "dogschool");
    block_on(async {
        let (one, fido, two, meanwhile) = fido_on_two_devices(&url).await;
        // "beg" (v2), saved on two (in another tab) right after its pull read that nothing is pending
        let copy = device(&url);
        copy.sync.round(&mut |_| {}).await.unwrap();
        copy.app.record(&[trick(fido, "beg")]).await.unwrap();
        let beg = copy.app.mapper().to_stored_event(&copy.app.events(fido, EventQuery::all()).await.unwrap().pop().unwrap()).unwrap();
        one.app.record(&[trick(fido, "sit")]).await.unwrap();
        one.sync.round(&mut |_| {}).await.unwrap();
        *meanwhile.save.borrow_mut() = Some(beg);
        let round = two.sync.round(&mut |_| {}).await.expect("the round goes on: live sync stops on a ConflictError");
        assert_eq!((round.pulled, round.conflicts, round.pushed), (1, 1, 0));
        assert_eq!(two.app.get::<dog::Dog>(fido).await.unwrap().state().tricks, vec!["sit"]);
        let kept: Vec<_> =
            two.sync.conflicts().await.unwrap().iter().flat_map(|c| c.local.iter().map(|e| e.payload["trick"].clone())).collect();
        assert_eq!(kept, vec![serde_json::json!("beg")]);
        assert_eq!(events(&one.app).await, events(&two.app).await);
    });
}

#[test]
fn a_conflict_kept_by_a_round_cut_off_before_its_rebase_is_rebased_by_the_next_round_that_rebases_conflicts() {
    use std::rc::Rc;
    use syncing::devices::trick;
    use tributary::sync::{SyncClient, SyncOptions};

    let server = Server::start(&data_folder("rebase-after-a-cut"), &[]);
    let url = server.app("acme", "dogschool");
    block_on(async {
        let one = device(&url);
        let fido = register(&one, "Fido").await;
        one.sync.round(&mut |_| {}).await.unwrap();
        // two rebases conflicts as they happen
        let log = Rc::new(tributary::persistence::MemoryApplicationRecorder::new());
        let mut app = tributary::Application::new("dogschool", log.clone());
        app.register::<dog::Dog>();
        let options = SyncOptions { token: Some(support::TOKEN.into()), rebase_conflicts: true, ..SyncOptions::new(&url) };
        let two = SyncClient::new(app.clone(), log.clone(), Rc::new(support::Ureq), options.clone()).unwrap();
        two.round(&mut |_| {}).await.unwrap();
        app.record(&[trick(fido, "beg")]).await.unwrap();
        one.app.record(&[trick(fido, "sit")]).await.unwrap();
        one.sync.round(&mut |_| {}).await.unwrap();
        // two's pull keeps the conflict, and the page is closed before the rebase:
        // the pull's write is what a client that does not rebase makes
        let cut =
            SyncClient::new(app.clone(), log.clone(), Rc::new(support::Ureq), SyncOptions { rebase_conflicts: false, ..options }).unwrap();
        assert_eq!(cut.pull().await.unwrap().conflicts, 1);
        // opened again, two's next round rebases it and pushes "beg"
        two.round(&mut |_| {}).await.unwrap();
        assert!(two.conflicts().await.unwrap().is_empty(), "no conflict left to an application that asked for rebases");
        one.sync.round(&mut |_| {}).await.unwrap();
        assert_eq!(one.app.get::<dog::Dog>(fido).await.unwrap().state().tricks, vec!["sit", "beg"], "two's trick reached the server");
        assert_eq!(events(&one.app).await, events(&app).await);
    });
}

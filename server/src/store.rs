//! One application's database, served by a thread of its own. The core's
//! ports and `Application` are not `Send` (they are made for the browser), so
//! each database lives on a thread with a single-threaded runtime, and HTTP
//! handlers send it jobs and await the replies. Jobs run one at a time, which
//! is also how SQLite writes. The newest notification id is published on a
//! `watch` channel, so long-polls wait without taking the thread's time.

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::{mpsc, oneshot, watch};
use tributary::persistence::ApplicationRecorder;
use tributary::{Application, Error, Result};
use uuid::Uuid;

/// What the server needs of a recorder beyond the core's ports.
#[async_trait(?Send)]
pub trait ServerRecorder: ApplicationRecorder {
    /// The notification ids of events at these positions (`None` where there
    /// is none): what a repeated push is answered with.
    async fn notification_ids(&self, positions: &[(Uuid, u64)]) -> Result<Vec<Option<u64>>>;
}

#[async_trait(?Send)]
impl ServerRecorder for crate::sqlite::SqliteRecorder {
    async fn notification_ids(&self, positions: &[(Uuid, u64)]) -> Result<Vec<Option<u64>>> {
        crate::sqlite::SqliteRecorder::notification_ids(self, positions)
    }
}

#[async_trait(?Send)]
impl ServerRecorder for crate::postgres::PostgresRecorder {
    async fn notification_ids(&self, positions: &[(Uuid, u64)]) -> Result<Vec<Option<u64>>> {
        crate::postgres::PostgresRecorder::notification_ids(self, positions).await
    }
}

/// Moves a published head forward (never back), waking its waiters if it moved.
pub fn advance(head: &watch::Sender<u64>, id: u64) {
    head.send_if_modified(|known| {
        let grew = id > *known;
        *known = (*known).max(id);
        grew
    });
}

/// What a job has to work with.
pub struct Local {
    pub app: Application,
    pub recorder: Rc<dyn ServerRecorder>,
    head: Arc<watch::Sender<u64>>,
}

impl Local {
    /// Tells waiting long-polls the log has grown.
    pub fn grew(&self, head: u64) {
        advance(&self.head, head);
    }
}

type Job = Box<dyn FnOnce(Rc<Local>) -> Pin<Box<dyn Future<Output = ()>>> + Send>;

/// Opens a recorder, on the database's thread (recorders are not `Send`).
pub type Opener<R> = Box<dyn FnOnce() -> Pin<Box<dyn Future<Output = Result<R>>>> + Send>;

/// A handle on one application's database thread.
#[derive(Clone)]
pub struct Store {
    jobs: mpsc::UnboundedSender<Job>,
    head: Arc<watch::Sender<u64>>,
}

impl Store {
    /// Starts the database's thread, where `open` opens (creating) the
    /// database, and the application `name` over it.
    pub async fn open<R: ServerRecorder + 'static>(name: String, open: Opener<R>) -> Result<Store> {
        let (jobs, mut queue) = mpsc::unbounded_channel::<Job>();
        let (opened, opening) = oneshot::channel();
        std::thread::Builder::new()
            .name(format!("db {name}"))
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread().enable_time().build() {
                    Ok(runtime) => runtime,
                    Err(error) => return drop(opened.send(Err(Error::Storage(format!("starting a database thread: {error}"))))),
                };
                let local = match runtime.block_on(open()) {
                    Ok(recorder) => {
                        let recorder = Rc::new(recorder);
                        let app = Application::new(name, recorder.clone());
                        let head = runtime.block_on(app.max_notification_id()).unwrap_or(0);
                        let head = Arc::new(watch::channel(head).0);
                        drop(opened.send(Ok(head.clone())));
                        Rc::new(Local { app, recorder, head })
                    }
                    Err(error) => return drop(opened.send(Err(error))),
                };
                runtime.block_on(async move {
                    while let Some(job) = queue.recv().await {
                        job(local.clone()).await;
                    }
                });
            })
            .map_err(|e| Error::Storage(format!("starting a database thread: {e}")))?;
        let head = opening.await.map_err(|_| Error::Storage("the database thread ended while opening".into()))??;
        Ok(Store { jobs, head })
    }

    /// Runs `work` on the database's thread and returns what it made.
    pub async fn run<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(Rc<Local>) -> Pin<Box<dyn Future<Output = Result<T>>>> + Send + 'static,
    {
        let (reply, replied) = oneshot::channel();
        let job: Job = Box::new(move |local| {
            Box::pin(async move {
                let _ = reply.send(work(local).await);
            })
        });
        self.jobs.send(job).map_err(|_| Error::Storage("the database is closed".into()))?;
        replied.await.map_err(|_| Error::Storage("the database thread stopped".into()))?
    }

    /// The newest notification id, as published.
    pub fn head(&self) -> watch::Receiver<u64> {
        self.head.subscribe()
    }

    /// The published head itself, for a listener that learns of other writers.
    pub fn head_sender(&self) -> &Arc<watch::Sender<u64>> {
        &self.head
    }
}

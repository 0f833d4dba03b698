//! One application's database, served by a thread of its own. The core's
//! ports and `Application` are not `Send` (they are made for the browser), so
//! each database lives on a thread with a single-threaded runtime, and HTTP
//! handlers send it jobs and await the replies. Jobs run one at a time, which
//! is also how SQLite writes. The newest notification id is published on a
//! `watch` channel, so long-polls wait without taking the thread's time.

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::rc::Rc;

use tokio::sync::{mpsc, oneshot, watch};
use tributary::{Application, Error, Result};

use crate::sqlite::SqliteRecorder;

/// What a job has to work with.
pub struct Local {
    pub app: Application,
    pub recorder: SqliteRecorder,
    head: watch::Sender<u64>,
}

impl Local {
    /// Tells waiting long-polls the log has grown.
    pub fn grew(&self, head: u64) {
        self.head.send_if_modified(|known| {
            let grew = head > *known;
            *known = (*known).max(head);
            grew
        });
    }
}

type Job = Box<dyn FnOnce(Rc<Local>) -> Pin<Box<dyn Future<Output = ()>>> + Send>;

/// A handle on one application's database thread.
#[derive(Clone)]
pub struct Store {
    jobs: mpsc::UnboundedSender<Job>,
    head: watch::Receiver<u64>,
}

impl Store {
    /// Opens (creating) the database file and starts its thread.
    pub fn open(path: PathBuf, name: String) -> Result<Store> {
        let (jobs, mut queue) = mpsc::unbounded_channel::<Job>();
        let (opened, opening) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name(format!("db {name}"))
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread().enable_time().build() {
                    Ok(runtime) => runtime,
                    Err(error) => return drop(opened.send(Err(Error::Storage(format!("starting a database thread: {error}"))))),
                };
                let local = match SqliteRecorder::open(&path) {
                    Ok(recorder) => {
                        let app = Application::new(name, Rc::new(recorder.clone()));
                        let head = runtime.block_on(app.max_notification_id()).unwrap_or(0);
                        let (sender, receiver) = watch::channel(head);
                        drop(opened.send(Ok(receiver)));
                        Rc::new(Local { app, recorder, head: sender })
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
        let head = opening.recv().map_err(|_| Error::Storage("the database thread ended while opening".into()))??;
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
        self.head.clone()
    }
}

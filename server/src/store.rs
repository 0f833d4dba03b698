//! One application's database, served by threads of its own. The core's
//! ports and `Application` are not `Send` (they are made for the browser), so
//! each thread has a single-threaded runtime (with I/O, to drive a connection
//! of its own) and its own recorder, and HTTP handlers send it work and await
//! the replies:
//!
//! - one writer thread records pushes, a group at a time: the pushes that
//!   arrive while a group is written wait, and go together in the next
//!   transaction (group commit);
//! - reader threads answer reads, so a read never waits for a write.
//!
//! The newest notification id is published on a `watch` channel, so
//! long-polls wait without taking any thread's time; the newest notifications
//! read are kept encoded for every device (see [`Recent`]).

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot, watch, Mutex};
use tributary::application::notification_to_json;
use tributary::persistence::NotificationQuery;
use tributary::sync::protocol::Push;
use tributary::{Application, Error, Result};

use crate::page::Page;
use crate::push::{accept_all, Accepted};
use crate::recent::{Item, Recent};
use crate::recorder::ServerRecorder;

/// Reader threads per application.
const READERS: usize = 2;
/// A group takes the pushes waiting, up to this many...
const GROUP_PUSHES: usize = 256;
/// ... or until it holds this many events...
const GROUP_EVENTS: usize = 20_000;
/// ... or this many bytes of state: a group's states go to PostgreSQL as one
/// `bytea[]` parameter, which must stay well below its 1 GB limit on a value.
const GROUP_BYTES: usize = 64 << 20;
/// A thread with nothing to do for this long lets go of its connection.
const REST: std::time::Duration = std::time::Duration::from_secs(10);

/// Moves a published head forward (never back), waking its waiters if it moved.
pub fn advance(head: &watch::Sender<u64>, id: u64) {
    head.send_if_modified(|known| {
        let grew = id > *known;
        *known = (*known).max(id);
        grew
    });
}

/// What a thread has to work with.
pub struct Local {
    pub app: Application,
    pub recorder: Rc<dyn ServerRecorder>,
    head: Arc<watch::Sender<u64>>,
}

impl Local {
    /// The application `app` over `recorder`, publishing its head on `head`.
    pub fn new(app: Application, recorder: Rc<dyn ServerRecorder>, head: Arc<watch::Sender<u64>>) -> Local {
        Local { app, recorder, head }
    }

    /// Tells waiting long-polls the log has grown.
    pub fn grew(&self, head: u64) {
        advance(&self.head, head);
    }
}

type Job = Box<dyn FnOnce(Rc<Local>) -> Pin<Box<dyn Future<Output = ()>>> + Send>;
type Pending = (Push, oneshot::Sender<Result<Accepted>>);

/// Opens a recorder on the calling thread (recorders are not `Send`); called
/// once per thread.
pub type Opener<R> = Arc<dyn Fn() -> Pin<Box<dyn Future<Output = Result<R>>>> + Send + Sync>;

/// A handle on one application's database threads.
#[derive(Clone)]
pub struct Store {
    pushes: mpsc::UnboundedSender<Pending>,
    reads: mpsc::UnboundedSender<Job>,
    head: Arc<watch::Sender<u64>>,
    recent: Arc<Recent>,
    /// One per handle: more than one while a request (a long-poll too) holds one.
    handles: Arc<()>,
}

impl Store {
    /// Starts the database's threads, where `open` opens (creating) the
    /// database, and the application `name` over it: the writer first (it
    /// makes the tables), then the readers.
    pub async fn open<R: ServerRecorder + 'static>(name: String, open: Opener<R>) -> Result<Store> {
        let (pushes, queued) = mpsc::unbounded_channel::<Pending>();
        let head = start(format!("db {name} writer"), name.clone(), open.clone(), None, move |local| write(local, queued)).await?;
        let (reads, jobs) = mpsc::unbounded_channel::<Job>();
        let (jobs, recent) = (Arc::new(Mutex::new(jobs)), Arc::<Recent>::default());
        for i in 0..READERS {
            let (jobs, recent) = (jobs.clone(), recent.clone());
            let serve = move |local| read(local, jobs, recent);
            start(format!("db {name} reader {i}"), name.clone(), open.clone(), Some(head.clone()), serve).await?;
        }
        Ok(Store { pushes, reads, head, recent, handles: Arc::default() })
    }

    /// Records a push, in the next group.
    pub async fn push(&self, push: Push) -> Result<Accepted> {
        let (reply, replied) = oneshot::channel();
        self.pushes.send((push, reply)).map_err(|_| Error::Storage("the database is closed".into()))?;
        replied.await.map_err(|_| Error::Storage("the database's writer stopped".into()))?
    }

    /// Runs `work` on a reader thread and returns what it made.
    pub async fn read<T, F>(&self, work: F) -> Result<T>
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
        self.reads.send(job).map_err(|_| Error::Storage("the database is closed".into()))?;
        replied.await.map_err(|_| Error::Storage("the database's reader stopped".into()))?
    }

    /// A page of notifications from `start` on (at most `limit`, and
    /// [`PAGE_BYTES`](crate::page::PAGE_BYTES)), of these topics (none: all):
    /// those the recent ones hold, the rest read from the log on a reader
    /// thread (and then held, when unfiltered).
    pub async fn page(&self, start: u64, limit: usize, topics: Vec<String>) -> Result<Page> {
        let mut page = Page::new(limit);
        let mut next = start;
        if topics.is_empty() {
            let (held, after) = self.recent.from(start, limit);
            page.extend(held);
            next = after;
        }
        while !page.is_full() {
            let select = NotificationQuery { start: next, limit: page.next_read(), stop: None, topics: topics.clone() };
            let asked = select.limit;
            let recent = select.topics.is_empty().then(|| self.recent.clone());
            let read = self
                .read(move |local| {
                    Box::pin(async move {
                        let read: Vec<Item> =
                            local.app.notifications(&select).await?.iter().map(|n| (n.id, Arc::from(notification_to_json(n)))).collect();
                        if let Some(recent) = recent {
                            recent.note(select.start, &read);
                        }
                        Ok(read)
                    })
                })
                .await?;
            let Some((last, _)) = read.last() else { break };
            next = last + 1;
            let ended = read.len() < asked;
            page.extend(read);
            if ended {
                break;
            }
        }
        Ok(page)
    }

    /// The newest notification id, as published.
    pub fn head(&self) -> watch::Receiver<u64> {
        self.head.subscribe()
    }

    /// Whether a handle other than this one is held (by a request, a long-poll
    /// too): closing the registry's then would let a second store open beside it.
    pub fn in_use(&self) -> bool {
        Arc::strong_count(&self.handles) > 1
    }

    /// The published head itself, for a listener that learns of other writers.
    pub fn head_sender(&self) -> &Arc<watch::Sender<u64>> {
        &self.head
    }
}

/// Starts a thread that opens a recorder and the application over it, then
/// runs `serve`. The first thread (no `head` given) reads the log's head and
/// publishes it; answers the published head once the thread is serving.
async fn start<R, S, F>(
    thread: String,
    name: String,
    open: Opener<R>,
    head: Option<Arc<watch::Sender<u64>>>,
    serve: S,
) -> Result<Arc<watch::Sender<u64>>>
where
    R: ServerRecorder + 'static,
    S: FnOnce(Rc<Local>) -> F + Send + 'static,
    F: Future<Output = ()>,
{
    let (opened, opening) = oneshot::channel();
    std::thread::Builder::new()
        .name(thread)
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                Ok(runtime) => runtime,
                Err(error) => return drop(opened.send(Err(Error::Storage(format!("starting a database thread: {error}"))))),
            };
            let local = runtime.block_on(async move {
                let recorder = Rc::new(open().await?);
                let app = Application::new(name, recorder.clone());
                let head = match head {
                    Some(head) => head,
                    None => Arc::new(watch::channel(app.max_notification_id().await?).0),
                };
                Ok::<_, Error>(Rc::new(Local { app, recorder, head }))
            });
            match local {
                Ok(local) => {
                    drop(opened.send(Ok(local.head.clone())));
                    runtime.block_on(serve(local));
                }
                Err(error) => drop(opened.send(Err(error))),
            }
        })
        .map_err(|e| Error::Storage(format!("starting a database thread: {e}")))?;
    opening.await.map_err(|_| Error::Storage("the database thread ended while opening".into()))?
}

/// The writer: each group takes the pushes waiting (within bounds) and is
/// recorded in one transaction; the rest wait for the next.
async fn write(local: Rc<Local>, mut queued: mpsc::UnboundedReceiver<Pending>) {
    let mut spent: Vec<Push> = Vec::new();
    while let Some(first) = next(queued.recv(), &*local.recorder, || local.recorder.rest()).await {
        let (pushes, replies): (Vec<Push>, Vec<_>) = group(first, &mut queued).into_iter().unzip();
        // The last group's pushes are freed while this group's database work
        // is awaited, not between the two: the writer's turn around is the
        // log's critical path, and freeing a group's events (allocated on the
        // HTTP threads) is work the database need not wait for.
        let (answers, ()) = futures::join!(accept_all(&local, &pushes), async move {
            tokio::task::yield_now().await;
            drop(spent)
        });
        for (reply, answer) in replies.into_iter().zip(answers) {
            let _ = reply.send(answer);
        }
        spent = pushes;
    }
}

/// The pushes of the next group: `first`, and those waiting behind it within
/// the bounds (the first whatever its size).
fn group(first: Pending, queued: &mut mpsc::UnboundedReceiver<Pending>) -> Vec<Pending> {
    let size = |push: &Push| (push.events.len(), push.events.iter().map(|(_, event)| event.state.len()).sum::<usize>());
    let (mut events, mut bytes) = size(&first.0);
    let mut group = vec![first];
    while group.len() < GROUP_PUSHES && events < GROUP_EVENTS && bytes < GROUP_BYTES {
        let Ok(pending) = queued.try_recv() else { break };
        let (more_events, more_bytes) = size(&pending.0);
        events += more_events;
        bytes += more_bytes;
        group.push(pending);
    }
    group
}

/// The next piece of work; a thread that waits for it longer than [`REST`]
/// calls `rest` meanwhile (to let go of what it need not hold), and lets its
/// recorder rest at once when another thread wants what it holds (first, so
/// that a thread kept busy gives way between jobs too).
async fn next<T>(work: impl Future<Output = Option<T>>, recorder: &dyn ServerRecorder, rest: impl Fn()) -> Option<T> {
    tokio::pin!(work);
    loop {
        tokio::select! {
            biased;
            () = recorder.wanted() => recorder.rest(),
            work = &mut work => return work,
            () = tokio::time::sleep(REST) => rest(),
        }
    }
}

/// A reader: takes the next read from the queue the readers share. Resting,
/// it also lets go of the recent notifications: nobody has pulled the newest
/// for a while (such a pull always reads the log past them), so they may
/// well be stale, and their memory is better given back.
async fn read(local: Rc<Local>, jobs: Arc<Mutex<mpsc::UnboundedReceiver<Job>>>, recent: Arc<Recent>) {
    let rest = || {
        local.recorder.rest();
        recent.forget();
    };
    loop {
        let job = next(async { jobs.lock().await.recv().await }, &*local.recorder, rest).await;
        match job {
            Some(job) => job(local.clone()).await,
            None => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use tributary::persistence::StoredEvent;
    use uuid::Uuid;

    use super::*;
    use crate::backend::Backend;

    #[test]
    fn a_group_takes_what_waits_up_to_its_bounds_in_pushes_events_and_bytes() {
        let push = |events: usize, bytes: usize| {
            let event = |i: usize| {
                let state = vec![b'x'; bytes / events.max(1)];
                let version = i as u64 + 1;
                (version, StoredEvent { originator_id: Uuid::new_v4(), originator_version: version, topic: "Dog.TrickAdded".into(), state })
            };
            (Push { client_id: Uuid::new_v4(), events: (0..events).map(event).collect(), through: events as u64 }, oneshot::channel().0)
        };
        let sizes = |pushes: Vec<(usize, usize)>| {
            let (sender, mut queued) = mpsc::unbounded_channel();
            pushes.into_iter().for_each(|(events, bytes)| sender.send(push(events, bytes)).unwrap());
            let mut groups = Vec::new();
            while let Ok(first) = queued.try_recv() {
                groups.push(group(first, &mut queued).len());
            }
            groups
        };
        assert_eq!(sizes(vec![(1, 10); 300]), vec![256, 44], "pushes");
        assert_eq!(sizes(vec![(5_000, 10); 9]), vec![4, 4, 1], "events");
        assert_eq!(sizes(vec![(1, 20 << 20); 9]), vec![4, 4, 1], "bytes");
        assert_eq!(sizes(vec![(1, 100 << 20), (1, 10)]), vec![1, 1], "a push over the bound goes alone");
    }

    #[tokio::test]
    async fn the_recent_notifications_are_let_go_once_nobody_has_read_for_a_while() {
        let folder = tempfile::tempdir().unwrap();
        let store = Backend::sqlite(folder.path().to_owned()).open("acme", "dogs").await.unwrap();
        let event =
            StoredEvent { originator_id: Uuid::new_v4(), originator_version: 1, topic: "Dog.Registered".into(), state: b"{}".to_vec() };
        store.push(Push { client_id: Uuid::new_v4(), events: vec![(1, event)], through: 1 }).await.unwrap();
        let json = |store: &Store| {
            let store = store.clone();
            async move { store.page(1, 10, vec![]).await.unwrap().to_json() }
        };
        let page = json(&store).await;
        assert!(page.contains("Dog.Registered"), "{page}");
        assert!(store.recent.held() > 0, "a read is kept");
        assert_eq!(json(&store).await, page, "and answered from what is kept");
        tokio::time::sleep(REST + std::time::Duration::from_secs(1)).await;
        assert_eq!(store.recent.held(), 0, "let go once the readers rested");
        assert_eq!(json(&store).await, page, "then read from the log again");
    }
}

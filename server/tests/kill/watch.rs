//! What the test sees of every device's traffic, across threads: each push
//! and its answer, whether a kill cut it off, each acknowledgement's ids.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};

use base64::{engine::general_purpose::STANDARD, Engine};
use tributary::sync::protocol::{PushReply, PushRequest};
use tributary::sync::{Http, Method, Request, Response};

use super::Event;
use crate::support::Ureq;

/// What the test sees of every device's traffic, across threads.
#[derive(Default)]
pub struct Watch {
    /// Kills of server A so far, counted just before each SIGKILL.
    pub kills: AtomicU64,
    /// Pushes to server A sent and not answered yet.
    pub pushing_to_a: AtomicU64,
    /// Pushes to server A that a kill cut off (sent before it, never answered): their events.
    pub cut: Mutex<Vec<Vec<Event>>>,
    /// Every event a server acknowledged, with the notification id it gave.
    pub acks: Mutex<Vec<(Event, u64)>>,
    /// Pushes refused for conflicts (409).
    pub refused: AtomicU64,
    /// Devices still recording (the killer stops when none is).
    pub recording: AtomicUsize,
    /// Whether the killer is still at work (devices record on meanwhile).
    pub killing: AtomicBool,
    /// Why rounds failed, and how often.
    pub failures: Mutex<HashMap<String, u64>>,
}

/// The core's HTTP port over ureq, telling the watch about every push.
pub struct Watched {
    pub on_a: bool,
    pub watch: Arc<Watch>,
}

#[async_trait::async_trait(?Send)]
impl Http for Watched {
    async fn send(&self, request: Request) -> Result<Response, String> {
        let pushed: Option<PushRequest> = match (request.method, &request.body) {
            (Method::Post, Some(body)) => Some(serde_json::from_slice(body).expect("a push request")),
            _ => None,
        };
        let to_a = pushed.is_some() && self.on_a;
        let kills = self.watch.kills.load(SeqCst);
        if to_a {
            self.watch.pushing_to_a.fetch_add(1, SeqCst);
        }
        let answer = Ureq.send(request).await;
        if to_a {
            self.watch.pushing_to_a.fetch_sub(1, SeqCst);
            if let (Some(pushed), Err(_)) = (&pushed, &answer) {
                if self.watch.kills.load(SeqCst) != kills {
                    self.watch.cut.lock().unwrap().push(pushed.events.iter().map(event).collect());
                }
            }
        }
        match (pushed, &answer) {
            (Some(pushed), Ok(response)) if response.status == 200 => {
                let reply: PushReply = serde_json::from_slice(&response.body).expect("a push reply");
                assert_eq!(reply.notification_ids.len(), pushed.events.len());
                let mut acks = self.watch.acks.lock().unwrap();
                acks.extend(pushed.events.iter().map(event).zip(reply.notification_ids));
            }
            (Some(_), Ok(response)) if response.status == 409 => {
                self.watch.refused.fetch_add(1, SeqCst);
            }
            _ => {}
        }
        answer
    }
}

/// A pushed event as stored.
pub fn event(pushed: &tributary::sync::protocol::PushedEvent) -> Event {
    let state = STANDARD.decode(&pushed.state).unwrap();
    (pushed.originator_id.parse().unwrap(), pushed.originator_version, pushed.topic.clone(), state)
}

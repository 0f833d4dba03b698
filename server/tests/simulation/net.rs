//! The simulated network: a sync client's request waits in a queue until the
//! scheduler delivers it to the server, drops it, or delivers it and drops the
//! answer; a delivered push may be kept to be delivered again later (a
//! duplicate, out of order). Nothing moves unless the scheduler says so.

use std::cell::RefCell;
use std::rc::Rc;

use async_trait::async_trait;
use futures::channel::oneshot;
use tributary::sync::{Http, Request, Response};

/// A request on its way, and where its answer goes.
pub struct InFlight {
    pub request: Request,
    pub answer: oneshot::Sender<Result<Response, String>>,
}

#[derive(Default)]
pub struct Net {
    pub queue: RefCell<Vec<InFlight>>,
    /// Requests delivered once, to be delivered again (their answers go nowhere).
    pub copies: RefCell<Vec<Request>>,
}

/// A device's HTTP, over the simulated network.
pub struct Link {
    pub net: Rc<Net>,
}

#[async_trait(?Send)]
impl Http for Link {
    async fn send(&self, request: Request) -> Result<Response, String> {
        let (answer, answered) = oneshot::channel();
        self.net.queue.borrow_mut().push(InFlight { request, answer });
        answered.await.unwrap_or_else(|_| Err("the request was lost".into()))
    }
}

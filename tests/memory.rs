//! Every contract suite on the in-memory adapter, natively.

#![cfg(not(target_arch = "wasm32"))]

#[macro_use]
mod contract;

macro_rules! native {
    ($alias:ident, $suite:ident, $factory:expr, $($test:ident),* $(,)?) => {
        mod $alias {
            $( #[test] fn $test() { futures::executor::block_on(crate::contract::$suite::$test($factory)) } )*
        }
    };
}

contract_suite!(native,
    events: std::rc::Rc::new(tributary::persistence::MemoryApplicationRecorder::new()),
    snapshots: tributary::persistence::ApplicationRecorder::snapshots(&tributary::persistence::MemoryApplicationRecorder::new()),
    tracking: std::rc::Rc::new(tributary::persistence::MemoryApplicationRecorder::new()),
    app: crate::contract::application::Stores::memory(),
    views: std::rc::Rc::new(tributary::persistence::MemoryApplicationRecorder::new()),
    projection: crate::contract::projection::ProjectionStores::memory());

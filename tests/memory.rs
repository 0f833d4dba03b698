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

memory_suite!(native);

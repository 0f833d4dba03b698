//! Every contract suite on the in-memory adapter, in a real browser
//! (`wasm-pack test --headless --chrome`): the core as it runs in wasm.

#![cfg(target_arch = "wasm32")]

use wasm_bindgen_test::wasm_bindgen_test_configure;

wasm_bindgen_test_configure!(run_in_browser);

#[macro_use]
mod contract;

macro_rules! browser {
    ($alias:ident, $suite:ident, $factory:expr, $($test:ident),* $(,)?) => {
        mod $alias {
            use wasm_bindgen_test::wasm_bindgen_test;
            $( #[wasm_bindgen_test] async fn $test() { crate::contract::$suite::$test($factory).await } )*
        }
    };
}

memory_suite!(browser);

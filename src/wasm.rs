//! The boundary to JavaScript (wasm32 only), thin and split by concept: one
//! exported handle per concept ([`application`], [`view`], [`follower`]), each
//! owning its state. Every value from JavaScript is checked here before the
//! core sees it ([`args`], [`convert`]); core errors cross as JS `Error`s whose
//! `name` is their kind, and a panic, should one ever happen, reaches the page
//! as an error while the instance is replaced ([`failure`]).

mod aggregate;
mod application;
mod args;
mod convert;
mod events;
mod failure;
mod fetch;
mod follower;
mod runner;
mod shared;
mod sync;
mod view;
mod workflow;

use wasm_bindgen::prelude::*;

/// The version of the tributary crate inside this package.
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}

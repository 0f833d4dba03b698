//! The running application's rules, without I/O: when its views and followers
//! step ([`Runner`]) and what live sync does next ([`crate::sync::live`]). A
//! driver (the browser facade, or native code) performs what they return.

mod runner;

pub use runner::{Effect, Failure, Runner, State, Stepped, Then};

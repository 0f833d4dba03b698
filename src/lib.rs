//! # tributary
//!
//! Event sourcing for the browser: aggregates whose state is the fold of their
//! events, an event store with optimistic concurrency, a notification log in the
//! formats of the Python `eventsourcing` library, and snapshots. The core does no
//! I/O of its own: storage sits behind the recorder ports in [`persistence`].
//!
//! ```
//! use serde::{Deserialize, Serialize};
//! use serde_json::json;
//! use tributary::{Aggregate, Application, DomainEvent, EventType, Result, Root};
//!
//! #[derive(Clone, Default, Serialize, Deserialize)]
//! struct Dog { name: String, tricks: Vec<String> }
//!
//! impl Aggregate for Dog {
//!     const TYPE: &'static str = "Dog";
//!     const EVENTS: &'static [EventType] = &[EventType::new("Registered"), EventType::new("TrickAdded")];
//!     fn apply(&mut self, event: &DomainEvent) -> Result<()> {
//!         match event.name() {
//!             "Registered" => self.name = event.field("name")?,
//!             _ => self.tricks.push(event.field("trick")?),
//!         }
//!         Ok(())
//!     }
//! }
//!
//! # futures::executor::block_on(async {
//! let mut app = Application::in_memory("dogschool");
//! app.register::<Dog>();
//! let mut dog = Root::<Dog>::create("Registered", json!({"name": "Fido"}))?;
//! dog.trigger("TrickAdded", json!({"trick": "roll over"}))?;
//! assert_eq!(app.save(&mut [&mut dog]).await?, vec![1, 2]);
//!
//! let fido = app.get::<Dog>(dog.id()).await?;
//! assert_eq!((fido.version(), fido.state().tricks.len()), (2, 1));
//! let section = app.notification_log().section("1,10").await?;
//! assert!(section.to_json().starts_with(r#"{"id": "1,2", "next_id": null"#));
//! # Ok::<(), tributary::Error>(()) }).unwrap();
//! ```

pub mod application;
mod by_name;
pub mod domain;
mod error;
pub mod persistence;
pub mod projection;
pub mod runtime;
pub mod sync;
pub mod system;
pub mod workflow;

#[cfg(target_arch = "wasm32")]
pub mod indexeddb;
#[cfg(target_arch = "wasm32")]
mod wasm;

pub use application::{Application, At, NewEvent, NotificationLog, Recorded, Replayed, Section, SectionId};
pub use domain::{Aggregate, DomainEvent, EventType, Payload, Registry, Root, Snapshot, Timestamp};
pub use error::{Error, Kind, Result, Side, KINDS};

/// The Rust guide's examples (`docs/rust.md`), compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../docs/rust.md")]
pub struct RustGuide;

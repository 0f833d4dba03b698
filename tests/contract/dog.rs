//! The dog school's Dog, the aggregate of the Python library's tutorial.

use serde::{Deserialize, Serialize};
use tributary::{Aggregate, DomainEvent, Error, EventType, Result};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Dog {
    pub name: String,
    pub tricks: Vec<String>,
}

impl Aggregate for Dog {
    const TYPE: &'static str = "Dog";
    const EVENTS: &'static [EventType] = &[EventType::new("Registered"), EventType::new("TrickAdded")];

    fn apply(&mut self, event: &DomainEvent) -> Result<()> {
        match event.name() {
            "Registered" => self.name = event.field("name")?,
            "TrickAdded" => {
                let trick: String = event.field("trick")?;
                if trick.is_empty() {
                    return Err(Error::Validation("a trick needs a name".into()));
                }
                self.tricks.push(trick)
            }
            other => return Err(Error::UnknownTopic(other.into())),
        }
        Ok(())
    }
}

//! A dog school run entirely in wasm on the in-memory adapter: proof that the
//! core works in the browser, shown by the demo page.

use serde::{Deserialize, Serialize};
use serde_json::json;
use wasm_bindgen::prelude::*;

use super::{js_error, JsResult};
use crate::{Aggregate, Application, DomainEvent, EventType, Result, Root};

#[derive(Clone, Default, Serialize, Deserialize)]
struct Dog {
    name: String,
    tricks: Vec<String>,
}

impl Aggregate for Dog {
    const TYPE: &'static str = "Dog";
    const EVENTS: &'static [EventType] = &[EventType::new("Registered"), EventType::new("TrickAdded")];

    fn apply(&mut self, event: &DomainEvent) -> Result<()> {
        match event.name() {
            "Registered" => self.name = event.field("name")?,
            _ => self.tricks.push(event.field("trick")?),
        }
        Ok(())
    }
}

/// Registers a dog per name, teaches each one trick, saves them all atomically
/// and returns the log's first section as the Python library serves it.
#[wasm_bindgen(js_name = dogSchoolDemo)]
pub async fn dog_school_demo(names: Vec<String>, trick: String) -> JsResult<String> {
    run(names, trick).await.map_err(js_error)
}

async fn run(names: Vec<String>, trick: String) -> Result<String> {
    let mut app = Application::in_memory("dogschool");
    app.register::<Dog>();
    let mut dogs = Vec::with_capacity(names.len());
    for name in &names {
        let mut dog = Root::<Dog>::create_with_id(Dog::create_id(name), "Registered", json!({ "name": name }))?;
        dog.trigger("TrickAdded", json!({ "trick": trick }))?;
        dogs.push(dog);
    }
    let mut pending: Vec<&mut dyn crate::domain::Pending> = dogs.iter_mut().map(|d| d as &mut dyn crate::domain::Pending).collect();
    app.save(&mut pending).await?;
    Ok(app.notification_log().section("1,10").await?.to_json())
}

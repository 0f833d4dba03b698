//! Aggregates defined in JavaScript: their definition, checked here; their
//! fold, which keeps the state in JavaScript during a replay (only events
//! cross, a bounded batch at a time); and their upcasters.

use std::collections::BTreeMap;
use std::rc::Rc;

use js_sys::{Function, Object};
use serde_json::Value;
use wasm_bindgen::{JsCast, JsValue};

use super::args::Options;
use super::convert::{from_json, to_json, to_object};
use super::events::{domain_to_js, fold};
use super::failure::handler_threw;
use crate::application::Folding;
use crate::by_name::ByName;
use crate::domain::{AggregateType, DomainEvent, Fold, Payload, Registry};
use crate::error::{Error, Result};

/// An aggregate type as JavaScript defines it.
pub(crate) struct JsAggregate {
    name: String,
    initial: Function,
    /// Event name -> `(state, data, meta) => state`.
    apply: Object,
}

impl JsAggregate {
    fn initial(&self) -> Result<JsValue> {
        self.initial.call0(&JsValue::NULL).map_err(|e| handler_threw(&format!("{}.initial", self.name), &e))
    }

    fn fold(&self, state: JsValue, events: &[DomainEvent]) -> Result<JsValue> {
        fold(&self.apply, state, &domain_to_js(events)?).map_err(|e| handler_threw(&format!("{}.apply", self.name), &e))
    }
}

/// The registry's view of a JS aggregate: folds through JSON, for snapshots.
impl Fold for JsAggregate {
    fn initial(&self) -> Result<Value> {
        state(&self.name, &JsAggregate::initial(self)?)
    }

    fn apply(&self, state_json: Value, events: &[DomainEvent]) -> Result<Value> {
        state(&self.name, &JsAggregate::fold(self, from_json(&state_json)?, events)?)
    }
}

fn state(aggregate: &str, value: &JsValue) -> Result<Value> {
    to_json(value, &format!("the state of {aggregate}")).map_err(|e| Error::Handler(e.to_string()))
}

/// Folds for `get`: a JS aggregate with its state kept in JavaScript (only
/// events cross), any other by the registry's fold, as JSON.
pub(crate) struct JsFolding {
    aggregates: Rc<ByName<Rc<JsAggregate>>>,
    state: Folded,
}

enum Folded {
    None,
    Js(Rc<JsAggregate>, JsValue),
    Json(Rc<dyn Fold>, Value),
}

impl JsFolding {
    pub(crate) fn new(aggregates: Rc<ByName<Rc<JsAggregate>>>) -> Self {
        JsFolding { aggregates, state: Folded::None }
    }

    /// The state reached, as a JavaScript value.
    pub(crate) fn state(self) -> Result<JsValue> {
        match self.state {
            Folded::None => Ok(JsValue::UNDEFINED),
            Folded::Js(_, state) => Ok(state),
            Folded::Json(_, state) => from_json(&state),
        }
    }
}

impl Folding for JsFolding {
    fn start(&mut self, aggregate_type: &AggregateType, snapshot: Option<Value>) -> Result<()> {
        self.state = match (self.aggregates.get(&aggregate_type.name).cloned(), snapshot) {
            (Some(aggregate), Some(state)) => Folded::Js(aggregate, from_json(&state)?),
            (Some(aggregate), None) => {
                let initial = aggregate.initial()?;
                Folded::Js(aggregate, initial)
            }
            (None, Some(state)) => Folded::Json(aggregate_type.fold.clone(), aggregate_type.fold.read_snapshot(state)?),
            (None, None) => Folded::Json(aggregate_type.fold.clone(), aggregate_type.fold.initial()?),
        };
        Ok(())
    }

    fn apply(&mut self, events: &[DomainEvent]) -> Result<()> {
        self.state = match std::mem::replace(&mut self.state, Folded::None) {
            Folded::None => return Err(Error::corrupt("a replay applied events before it started")),
            Folded::Js(aggregate, state) => {
                let state = aggregate.fold(state, events)?;
                Folded::Js(aggregate, state)
            }
            Folded::Json(fold, state) => {
                let state = fold.apply(state, events)?;
                Folded::Json(fold, state)
            }
        };
        Ok(())
    }

    fn whole_state_per_call(&self) -> bool {
        matches!(self.state, Folded::Json(..))
    }
}

/// Reads `defineAggregate(name, definition)` and registers the type and its
/// upcasters with `registry`; returns the aggregate for JS-side folds.
pub(crate) fn define(registry: &mut Registry, name: String, definition: &JsValue) -> Result<Rc<JsAggregate>> {
    if name.contains('.') {
        return Err(Error::invalid(format!("aggregate name {name:?} must not contain '.'")));
    }
    let mut options = Options::new(definition, &format!("the definition of {name}"))?;
    if definition.is_undefined() {
        return Err(Error::invalid(format!("{name} needs a definition {{ initial, apply }}")));
    }
    let initial = options.function("initial", &format!("{name}.initial"))?;
    // Read once: what is checked is what is kept (a getter may answer differently twice).
    let apply_value = options.get("apply")?.unwrap_or(JsValue::UNDEFINED);
    let mut apply = Options::new(&apply_value, &options.path("apply"))?;
    let events = apply.keys()?;
    if events.is_empty() {
        return Err(Error::invalid(format!("{name}.apply must name at least one event with its function")));
    }
    let mut versions = ByName::default();
    for event in &events {
        if event.is_empty() || event.contains('.') {
            return Err(Error::invalid(format!("{name}: event name {event:?} must be non-empty, without '.'")));
        }
        apply.function(event, &format!("{name}.apply.{event}"))?;
        versions.insert(event.clone(), 1u64);
    }
    let apply_object: Object = apply_value.unchecked_into();
    let schema_version = options.whole("schemaVersion", 1)?.unwrap_or(1);
    let initial_version = options.whole("initialVersion", 0)?.unwrap_or(1);
    let mut event_versions = options.options("eventVersions")?;
    for event in event_versions.keys()? {
        let version = versions
            .get_mut(&event)
            .ok_or_else(|| Error::invalid(format!("{name}.eventVersions names {event:?}, which is not in apply")))?;
        *version = event_versions.whole(&event, 1)?.unwrap_or(1);
    }
    let upcasters = upcasters(&name, &mut options, &versions, schema_version)?;
    let uuid_fields = uuid_fields(&name, &mut options, &versions)?;
    options.done()?;
    let aggregate = Rc::new(JsAggregate { name: name.clone(), initial, apply: apply_object });
    let to_u32 = |v: u64| u32::try_from(v).map_err(|_| Error::invalid(format!("{name}: schema versions must be below 2^32")));
    let events = versions.into_iter().map(|(e, v)| Ok((e, to_u32(v)?))).collect::<Result<BTreeMap<_, _>>>()?;
    let aggregate_type =
        AggregateType { name: name.clone(), schema_version: to_u32(schema_version)?, events, initial_version, fold: aggregate.clone() };
    // Every event's, none for those not declared: a type defined again keeps nothing of before.
    let undeclared: Vec<String> = aggregate_type.events.keys().filter(|e| !uuid_fields.iter().any(|(d, _)| d == *e)).cloned().collect();
    registry.register(aggregate_type)?;
    // A definition holds all its upcasters: one defined again keeps none of before.
    registry.remove_upcasters(&name);
    for (event, fields) in uuid_fields.into_iter().chain(undeclared.into_iter().map(|event| (event, Vec::new()))) {
        registry.uuid_fields(format!("{name}.{event}"), &fields.iter().map(String::as_str).collect::<Vec<_>>());
    }
    // nor its snapshot's (a Rust type's of that name)
    registry.uuid_fields(name.clone(), &[]);
    registry.not_snapshotted(name.clone(), &[]);
    for (key, from, upcast) in upcasters {
        let function_name = format!("the upcaster of {key} from version {from}");
        registry.upcaster(key, from, move |payload: Payload| {
            let out = upcast.call1(&JsValue::NULL, &from_json(&Value::Object(payload))?).map_err(|e| handler_threw(&function_name, &e))?;
            to_object(&out, &format!("what {function_name} returned")).map_err(|e| Error::Handler(e.to_string()))
        });
    }
    Ok(aggregate)
}

/// `uuidFields: { Event: ["field", ...] }`: fields written as Python's `uuid_hex`
/// (a Python aggregate's `UUID` attributes), checked.
fn uuid_fields(name: &str, options: &mut Options, versions: &ByName<u64>) -> Result<Vec<(String, Vec<String>)>> {
    let mut fields = options.options("uuidFields")?;
    let mut found = Vec::new();
    for event in fields.keys()? {
        if versions.get(&event).is_none() {
            return Err(Error::invalid(format!("{name}.uuidFields names {event:?}, which is not in apply")));
        }
        found.push((event.clone(), fields.names(&event)?.unwrap_or_default()));
    }
    fields.done()?;
    Ok(found)
}

/// `upcasters: { Event | "snapshot": { [from]: (data) => data } }`, checked.
fn upcasters(name: &str, options: &mut Options, versions: &ByName<u64>, schema: u64) -> Result<Vec<(String, u32, Function)>> {
    let mut upcasters = options.options("upcasters")?;
    let mut found = Vec::new();
    for event in upcasters.keys()? {
        let (key, current) = match event.as_str() {
            "snapshot" => (name.to_owned(), schema),
            other => match versions.get(other) {
                Some(version) => (format!("{name}.{other}"), *version),
                None => {
                    return Err(Error::invalid(format!(
                        "{name}.upcasters names {other:?}, which is neither an event in apply nor \"snapshot\""
                    )))
                }
            },
        };
        let mut by_version = upcasters.options(&event)?;
        for from in by_version.keys()? {
            let path = format!("{name}.upcasters.{event}[{from}]");
            let version: u32 = from
                .parse()
                .ok()
                .filter(|v| *v >= 1)
                .ok_or_else(|| Error::invalid(format!("{path}: upcasters are keyed by the version they upcast from (1, 2, ...)")))?;
            if u64::from(version) >= current {
                return Err(Error::invalid(format!("{path}: {event} is at version {current}, so nothing is upcast from {version}")));
            }
            let upcast = by_version.function(&from, &path)?;
            found.push((key.clone(), version, upcast));
        }
        by_version.done()?;
    }
    upcasters.done()?;
    Ok(found)
}

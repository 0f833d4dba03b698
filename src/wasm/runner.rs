//! `CoreRunner`: a view's or a follower's runner rules ([`Runner`]) for the
//! facade, which performs what they return: `{ queue }` (take the runner's
//! turn), `{ settle, error? }` (settle a waiter), `{ failed, error }` (say it
//! stopped). Errors are the facade's own error objects, kept as they are.

use std::cell::RefCell;

use js_sys::{Array, Object, Reflect};
use wasm_bindgen::prelude::*;

use crate::runtime::{Effect, Failure, Runner, State, Stepped, Then};

/// One runner's state and rules.
#[wasm_bindgen]
#[derive(Default)]
pub struct CoreRunner {
    rules: RefCell<Runner<JsValue>>,
}

#[wasm_bindgen]
impl CoreRunner {
    #[wasm_bindgen(constructor)]
    pub fn new() -> CoreRunner {
        CoreRunner::default()
    }

    /// `{ position, state, error?, failedAt? }`.
    pub fn status(&self) -> JsValue {
        let rules = self.rules.borrow();
        let state = match rules.state() {
            State::Idle => "idle",
            State::Running => "running",
            State::Failed => "failed",
        };
        let status = Object::new();
        set(&status, "position", &(rules.position() as f64).into());
        set(&status, "state", &state.into());
        if let Some(failure) = rules.failure() {
            set(&status, "error", &failure.error);
            set(&status, "failedAt", &(failure.at as f64).into());
        }
        status.into()
    }

    pub fn poke(&self) -> Array {
        effects(self.rules.borrow_mut().poke())
    }

    /// The queued turn began: whether to catch up.
    pub fn turn(&self) -> bool {
        self.rules.borrow_mut().turn()
    }

    /// A run begins: its generation, for what it reports.
    pub fn began(&self) -> f64 {
        self.rules.borrow_mut().began() as f64
    }

    /// A step reported: `{ done, effects }`. `failedAt` undefined: it did not fail.
    pub fn stepped(&self, generation: f64, position: f64, head: f64, failed_at: JsValue, error: JsValue) -> JsValue {
        let failed = failed_at.as_f64().map(|at| Failure { error, at: at as u64 });
        let step = Stepped { position: position as u64, head: head as u64, failed };
        let (then, done) = self.rules.borrow_mut().stepped(generation as u64, step);
        let out = Object::new();
        set(&out, "done", &(then == Then::Done).into());
        set(&out, "effects", &effects(done));
        out.into()
    }

    /// A step threw `error`; throws why if the runner was stopped meanwhile.
    pub fn threw(&self, generation: f64, error: JsValue) -> Result<Array, JsValue> {
        self.rules.borrow_mut().threw(generation as u64, error).map(effects)
    }

    /// Tries again after a failure; throws why once stopped.
    pub fn start(&self) -> Result<Array, JsValue> {
        self.rules.borrow_mut().start().map(effects)
    }

    pub fn stop(&self, why: JsValue) -> Array {
        effects(self.rules.borrow_mut().stop(why))
    }

    pub fn heard(&self, position: f64) -> Array {
        effects(self.rules.borrow_mut().heard(position as u64))
    }

    pub fn cleared(&self) -> Array {
        effects(self.rules.borrow_mut().cleared())
    }

    pub fn reset(&self) {
        self.rules.borrow_mut().reset()
    }

    /// `[waiter, ...effects]`; throws the failure at once if the runner failed at or before `at`.
    pub fn wait(&self, at: f64) -> Result<Array, JsValue> {
        let (waiter, then) = self.rules.borrow_mut().wait(at as u64)?;
        let out = effects(then);
        out.unshift(&(waiter as f64).into());
        Ok(out)
    }

    pub fn unwait(&self, waiter: f64) {
        self.rules.borrow_mut().unwait(waiter as u64)
    }
}

fn effects(effects: Vec<Effect<JsValue>>) -> Array {
    effects
        .into_iter()
        .map(|effect| {
            let out = Object::new();
            match effect {
                Effect::Queue => set(&out, "queue", &true.into()),
                Effect::Settle { waiter, error } => {
                    set(&out, "settle", &(waiter as f64).into());
                    if let Some(error) = error {
                        set(&out, "error", &error);
                    }
                }
                Effect::Failed(failure) => {
                    set(&out, "failed", &(failure.at as f64).into());
                    set(&out, "error", &failure.error);
                }
            }
            JsValue::from(out)
        })
        .collect()
}

/// Sets a property of an object made here (which cannot refuse it).
fn set(object: &Object, key: &str, value: &JsValue) {
    let _ = Reflect::set(object, &JsValue::from_str(key), value);
}

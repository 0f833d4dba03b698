//! The workflow domain from JavaScript: its aggregates and its four views, as
//! the core defines them (the facade asks for their names), and statistics.

use js_sys::{Array, Promise};
use wasm_bindgen::prelude::*;

use super::application::CoreApplication;
use super::convert::from_json;
use super::failure::{js_error, JsResult};
use super::shared::promise;
use super::view::CoreView;
use crate::persistence::RowQuery;
use crate::workflow;

#[wasm_bindgen]
impl CoreApplication {
    /// Registers the workflow aggregates and returns the handles of the workflow views.
    #[wasm_bindgen(js_name = defineWorkflows)]
    pub fn define_workflows(&self) -> JsResult<Array> {
        let views = workflow::views();
        for (definition, _) in &views {
            self.shared.claim_position(&definition.name, false).map_err(js_error)?;
        }
        self.shared
            .update(|app| {
                workflow::register(app);
                Ok(())
            })
            .map_err(js_error)?;
        Ok(views.into_iter().map(|(definition, handler)| JsValue::from(CoreView::of(self.shared.clone(), definition, handler))).collect())
    }

    /// Failure rate and mean duration per task name.
    #[wasm_bindgen(js_name = taskStatistics)]
    pub fn task_statistics(&self) -> Promise {
        let views = self.shared.views.clone();
        promise(self.shared.app().map(|_| async move {
            let rows = views.query_rows(workflow::TASK_ANALYTICS, &RowQuery::default()).await?;
            from_json(&workflow::task_statistics(&rows))
        }))
    }
}

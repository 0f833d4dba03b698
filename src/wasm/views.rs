//! Views from JavaScript: a JS function projects a whole batch (one crossing,
//! returning the batch's row changes), and the facade steps the runner.

use std::rc::Rc;

use async_trait::async_trait;
use js_sys::{Function, Promise};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use super::core::Core;
use super::js_error;
use super::js_fold::thrown;
use super::json::{parse, to_json, EventJs, NotificationJs};
use crate::error::{Error, Result};
use crate::persistence::{IndexKey, RowChanges, RowQuery, ViewDefinition};
use crate::projection::{Notified, Projected, Projection, ProjectionRunner, ViewRows};

/// `defineView` settings.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ViewJs {
    #[serde(default)]
    topics: Vec<String>,
    #[serde(default)]
    indexes: Vec<String>,
}

/// What the JS batch processor resolves to.
#[derive(Deserialize)]
struct ProjectedJs {
    changes: serde_json::Map<String, Value>,
    failed: Option<FailedJs>,
}

#[derive(Deserialize)]
struct FailedJs {
    index: usize,
    message: String,
}

/// `viewQuery` options.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct QueryJs {
    index: Option<String>,
    gt: Option<Value>,
    gte: Option<Value>,
    lt: Option<Value>,
    lte: Option<Value>,
    limit: Option<usize>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StepJs {
    position: u64,
    head: u64,
    applied: usize,
    changed: Vec<String>,
    failed: Option<FailureJs>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FailureJs {
    notification_id: u64,
    name: &'static str,
    message: String,
}

/// A projection written in JavaScript: `process(eventsJson) -> Promise<projectedJson>`.
struct JsProjection {
    view: String,
    process: Function,
}

#[async_trait(?Send)]
impl Projection for JsProjection {
    async fn project(&self, events: &[Notified], _: &ViewRows<'_>) -> Projected {
        match self.call(events).await {
            Ok(projected) => projected,
            Err(error) => Projected { changes: RowChanges::new(), failed: Some((0, error)) },
        }
    }
}

impl JsProjection {
    async fn call(&self, events: &[Notified]) -> Result<Projected> {
        let batch: Vec<NotificationJs> = events
            .iter()
            .map(|n| NotificationJs { notification_id: n.notification_id, topic: &n.event.topic, event: EventJs::new(&n.event) })
            .collect();
        let function = format!("the handler of view {:?}", self.view);
        let promise = self.process.call1(&JsValue::NULL, &JsValue::from_str(&to_json(&batch)?)).map_err(|e| thrown(&function, &e))?;
        let resolved = JsFuture::from(Promise::from(promise)).await.map_err(|e| thrown(&function, &e))?;
        let projected: ProjectedJs = parse("projected rows", &resolved.as_string().unwrap_or_default())?;
        let changes = projected.changes.into_iter().map(|(key, value)| (key, (!value.is_null()).then_some(value))).collect();
        let failed = projected.failed.map(|f| (f.index, Error::Handler(format!("{function} threw {}", f.message))));
        Ok(Projected { changes, failed })
    }
}

#[wasm_bindgen]
impl Core {
    /// Defines (or redefines, after a fix) a view and its JS batch processor.
    #[wasm_bindgen(js_name = defineView)]
    pub fn define_view(&self, name: String, settings: String, process: Function) -> std::result::Result<(), JsValue> {
        let settings: ViewJs = parse("view settings", &settings).map_err(js_error)?;
        let topics: Vec<&str> = settings.topics.iter().map(String::as_str).collect();
        let indexes: Vec<&str> = settings.indexes.iter().map(String::as_str).collect();
        let definition = ViewDefinition::new(name.clone(), &topics, &indexes).map_err(js_error)?;
        let projection: Rc<dyn Projection> = Rc::new(JsProjection { view: name.clone(), process });
        self.projections.borrow_mut().insert(name, (definition, projection));
        Ok(())
    }

    /// Processes the view's next batch; resolves to the step as JSON.
    #[wasm_bindgen(js_name = viewStep)]
    pub fn view_step(&self, name: String) -> Promise {
        let runner = self.runner(&name);
        self.run(|_| async move {
            let step = runner?.step().await?;
            to_json(&StepJs {
                position: step.position,
                head: step.head,
                applied: step.applied,
                changed: step.changed,
                failed: step.failed.map(|f| FailureJs {
                    notification_id: f.notification_id,
                    name: f.error.name(),
                    message: f.error.to_string(),
                }),
            })
        })
    }

    /// Drops the view's rows and position (the first half of a rebuild).
    #[wasm_bindgen(js_name = viewClear)]
    pub fn view_clear(&self, name: String) -> Promise {
        let views = self.views.clone();
        self.run(|_| async move { views.clear_view(&name).await.map(|_| "null".to_owned()) })
    }

    /// One row as JSON (`null` when absent).
    #[wasm_bindgen(js_name = viewGet)]
    pub fn view_get(&self, name: String, key: String) -> Promise {
        let views = self.views.clone();
        self.run(|_| async move { Ok(views.get_row(&name, &key).await?.unwrap_or(Value::Null).to_string()) })
    }

    /// Rows as JSON `[{key, value}]`, by key or by an index's range.
    #[wasm_bindgen(js_name = viewQuery)]
    pub fn view_query(&self, name: String, query: String) -> Promise {
        let views = self.views.clone();
        let definition = self.projections.borrow().get(&name).map(|(d, _)| d.clone());
        self.run(|_| async move {
            let definition = definition.ok_or_else(|| Error::invalid(format!("no view {name:?}: define it first")))?;
            let q: QueryJs = parse("view query", &query)?;
            let bound = |b: Option<Value>| b.as_ref().map(IndexKey::from_json).transpose();
            let query =
                RowQuery { index: q.index, gt: bound(q.gt)?, gte: bound(q.gte)?, lt: bound(q.lt)?, lte: bound(q.lte)?, limit: q.limit };
            query.validate(&definition)?;
            let rows = views.query_rows(&name, &query).await?;
            Ok(Value::Array(rows.into_iter().map(|r| serde_json::json!({ "key": r.key, "value": r.value })).collect()).to_string())
        })
    }

    /// The id of the last notification the view has processed.
    #[wasm_bindgen(js_name = viewPosition)]
    pub fn view_position(&self, name: String) -> Promise {
        let views = self.views.clone();
        self.run(|_| async move { Ok(views.max_tracking_id(&name).await?.unwrap_or(0).to_string()) })
    }

    /// Resolves once the view has processed `id`; a `TimeoutError` after `timeout_ms`.
    #[wasm_bindgen(js_name = viewWait)]
    pub fn view_wait(&self, name: String, id: f64, timeout_ms: f64) -> Promise {
        let views = self.views.clone();
        self.run(|_| async move {
            views.wait(&name, whole(id, "notification id")?, whole(timeout_ms, "timeoutMs")?).await?;
            Ok("null".to_owned())
        })
    }

    /// The id of the newest notification (0 when the log is empty).
    #[wasm_bindgen(js_name = maxNotificationId)]
    pub fn max_notification_id(&self) -> Promise {
        self.run(|app| async move { Ok(app.max_notification_id().await?.to_string()) })
    }
}

impl Core {
    /// A runner for the view over the current application (and its current types).
    fn runner(&self, name: &str) -> Result<ProjectionRunner> {
        let app = self.current()?;
        let projections = self.projections.borrow();
        let (definition, projection) = projections.get(name).ok_or_else(|| Error::invalid(format!("no view {name:?}: define it first")))?;
        Ok(ProjectionRunner::new((*app).clone(), self.views.clone(), definition.clone(), projection.clone()))
    }
}

fn whole(value: f64, what: &str) -> Result<u64> {
    if value.fract() != 0.0 || !(0.0..=9_007_199_254_740_991.0).contains(&value) {
        return Err(Error::invalid(format!("{what} must be a whole number from 0, not {value}")));
    }
    Ok(value as u64)
}

#[wasm_bindgen]
impl Core {
    /// Registers the workflow aggregates (`WorkflowRun`, `Task`) and their four views.
    #[wasm_bindgen(js_name = defineWorkflows)]
    pub fn define_workflows(&self) -> std::result::Result<(), JsValue> {
        self.update(|app| {
            crate::workflow::register(app);
            Ok(())
        })?;
        let mut projections = self.projections.borrow_mut();
        for (definition, projection) in crate::workflow::views() {
            projections.insert(definition.name.clone(), (definition, projection));
        }
        Ok(())
    }

    /// Failure rate and mean duration per task name, as JSON.
    #[wasm_bindgen(js_name = taskStatistics)]
    pub fn task_statistics(&self) -> Promise {
        let views = self.views.clone();
        self.run(|_| async move {
            let rows = views.query_rows(crate::workflow::TASK_ANALYTICS, &RowQuery::default()).await?;
            to_json(&crate::workflow::task_statistics(&rows))
        })
    }
}

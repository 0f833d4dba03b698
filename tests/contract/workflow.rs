//! The workflow domain and its views, over any adapter.

use chrono::{Duration, TimeZone, Utc};
use serde_json::{json, Value};
use tributary::domain::Pending;
use tributary::persistence::RowQuery;
use tributary::projection::ProjectionRunner;
use tributary::workflow::{self, task_statistics, RunCommands, Task, TaskCommands, WorkflowRun, TASK_ANALYTICS};
use tributary::{Application, Root};

use super::projection::ProjectionStores;

fn app(stores: &ProjectionStores) -> Application {
    let mut app = Application::new("workflows", stores.events.clone());
    workflow::register(&mut app);
    app
}

/// Catches every workflow view up; returns their listed rows, view by view.
async fn catch_up(stores: &ProjectionStores, app: &Application) -> Vec<Vec<(String, Value)>> {
    let mut all = Vec::new();
    for (definition, projection) in workflow::views() {
        let runner = ProjectionRunner::new(app.clone(), stores.views.clone(), definition.clone(), projection);
        runner.catch_up(|_| {}).await.unwrap();
        all.push(rows(stores, &definition.name).await);
    }
    all
}

async fn rows(stores: &ProjectionStores, view: &str) -> Vec<(String, Value)> {
    stores.views.query_rows(view, &RowQuery::default()).await.unwrap().into_iter().map(|r| (r.key, r.value)).collect()
}

async fn row(stores: &ProjectionStores, view: &str, key: impl ToString) -> Value {
    stores.views.get_row(view, &key.to_string()).await.unwrap().unwrap_or(Value::Null)
}

pub async fn the_views_follow_a_workflow_run_from_start_to_end(stores: ProjectionStores) {
    let app = app(&stores);
    // given a run of two tasks, the first completing, the second failing
    let t0 = Utc.with_ymd_and_hms(2030, 1, 1, 9, 0, 0).unwrap();
    let mut run = WorkflowRun::create("segment cells", "alice", "lab", &[]).unwrap();
    let mut segment = Task::create("segment", "1.2", run.id()).unwrap();
    let mut measure = Task::create("measure", "0.9", run.id()).unwrap();
    run = Root::create_with_id(
        run.id(),
        "Created",
        json!({ "name": "segment cells", "user": "alice", "group": "lab", "taskIds": [segment.id(), measure.id()] }),
    )
    .unwrap();
    run.start().unwrap();
    segment.trigger_at("Started", json!({}), t0).unwrap();
    segment.add_job("slurm-17").unwrap();
    segment.update_status("slurm-17", "running", 50.0).unwrap();
    segment.trigger_at("Completed", json!({ "results": { "cells": 812 } }), t0 + Duration::seconds(90)).unwrap();
    app.save(&mut [&mut run, &mut segment]).await.unwrap();
    let middle = catch_up(&stores, &app).await;
    assert_eq!(row(&stores, workflow::WORKFLOW_PROGRESS, run.id()).await["currentTask"], Value::Null);
    assert_eq!(row(&stores, workflow::WORKFLOW_PROGRESS, run.id()).await["progress"], json!(50));
    measure.start().unwrap();
    app.save(&mut [&mut measure]).await.unwrap();
    catch_up(&stores, &app).await;
    assert_eq!(row(&stores, workflow::WORKFLOW_PROGRESS, run.id()).await["currentTask"], json!("measure"));
    measure.add_job("slurm-18").unwrap();
    measure.fail("out of memory").unwrap();
    run.fail("measure failed").unwrap();
    app.save(&mut [&mut measure, &mut run]).await.unwrap();
    catch_up(&stores, &app).await;
    // then
    assert_eq!(
        row(&stores, workflow::JOB_ACCOUNTING, "slurm-17").await,
        json!({ "user": "alice", "group": "lab", "taskId": segment.id().to_string(), "workflowId": run.id().to_string() })
    );
    assert_eq!(
        row(&stores, workflow::JOB_PROGRESS, "slurm-17").await,
        json!({ "taskId": segment.id().to_string(), "status": "running", "progress": 50.0 })
    );
    assert_eq!(row(&stores, workflow::JOB_PROGRESS, "slurm-18").await["status"], json!("created"));
    let progress = row(&stores, workflow::WORKFLOW_PROGRESS, run.id()).await;
    assert_eq!(
        (progress["status"].clone(), progress["progress"].clone(), progress["tasksDone"].clone()),
        (json!("failed"), json!(50), json!(1))
    );
    assert_eq!((progress["user"].clone(), progress["error"].clone()), (json!("alice"), json!("measure failed")));
    assert!(progress["startedAt"].is_string() && progress["endedAt"].is_string());
    let analytics = row(&stores, TASK_ANALYTICS, segment.id()).await;
    assert_eq!(
        (analytics["status"].clone(), analytics["durationMs"].clone(), analytics["version"].clone()),
        (json!("completed"), json!(90_000), json!("1.2"))
    );
    assert_eq!(row(&stores, TASK_ANALYTICS, measure.id()).await["error"], json!("out of memory"));
    // lookups stay private; queries by index work
    assert_eq!(middle[0].len(), 1, "job accounting lists jobs only");
    let by_user = stores
        .views
        .query_rows(workflow::JOB_ACCOUNTING, &RowQuery::equal("user", tributary::persistence::IndexKey::Text("alice".into())))
        .await
        .unwrap();
    assert_eq!(by_user.len(), 2);
    assert!(matches!(run.start(), Err(tributary::Error::Validation(_))), "a failed run cannot start");
}

pub async fn task_statistics_give_failure_rates_and_mean_durations_per_task_name(stores: ProjectionStores) {
    let app = app(&stores);
    let t0 = Utc.with_ymd_and_hms(2030, 1, 1, 9, 0, 0).unwrap();
    let run = WorkflowRun::create("w", "u", "g", &[]).unwrap();
    let mut tasks = Vec::new();
    for (name, seconds, fails) in
        [("segment", 10, false), ("segment", 30, false), ("segment", 5, true), ("measure", 60, false), ("export", 0, false)]
    {
        let mut task = Task::create(name, "1", run.id()).unwrap();
        if name != "export" {
            task.trigger_at("Started", json!({}), t0).unwrap();
            if fails {
                task.trigger_at("Failed", json!({ "error": "x" }), t0 + Duration::seconds(seconds)).unwrap();
            } else {
                task.trigger_at("Completed", json!({ "results": {} }), t0 + Duration::seconds(seconds)).unwrap();
            }
        }
        tasks.push(task);
    }
    let mut pending: Vec<&mut dyn Pending> = tasks.iter_mut().map(|t| t as &mut dyn Pending).collect();
    app.save(&mut pending).await.unwrap();
    catch_up(&stores, &app).await;
    let analytics = stores.views.query_rows(TASK_ANALYTICS, &RowQuery::default()).await.unwrap();
    let stats: Vec<Value> = task_statistics(&analytics).iter().map(|s| serde_json::to_value(s).unwrap()).collect();
    assert_eq!(
        stats,
        vec![
            json!({ "name": "export", "finished": 0, "failed": 0, "failureRate": 0.0, "meanDurationMs": null }),
            json!({ "name": "measure", "finished": 1, "failed": 0, "failureRate": 0.0, "meanDurationMs": 60000.0 }),
            json!({ "name": "segment", "finished": 3, "failed": 1, "failureRate": 1.0 / 3.0, "meanDurationMs": 20000.0 }),
        ]
    );
}

/// Saves `runs` workflow runs of three tasks each: 21 events a run.
async fn simulate(app: &Application, runs: usize, seed: usize) {
    let mut roots: Vec<Box<dyn Pending>> = Vec::new();
    for r in 0..runs {
        let n = seed + r;
        let mut run =
            WorkflowRun::create(["segment", "track", "classify"][n % 3], ["alice", "bob"][n % 2], ["lab", "core"][n % 5 / 4], &[]).unwrap();
        run.start().unwrap();
        for t in 0..3 {
            let mut task = Task::create(["load", "compute", "save"][t], "1.0", run.id()).unwrap();
            let job = format!("job-{n}-{t}");
            task.start().unwrap();
            task.add_job(&job).unwrap();
            task.update_status(&job, "running", 40.0).unwrap();
            task.update_status(&job, "running", 80.0).unwrap();
            if (n + t) % 7 == 0 {
                task.fail("node lost").unwrap()
            } else {
                task.complete(json!({ "ok": n })).unwrap()
            }
            roots.push(Box::new(task));
        }
        if n % 7 == 0 {
            run.fail("a task failed").unwrap()
        } else {
            run.complete().unwrap()
        }
        roots.push(Box::new(run));
    }
    let mut pending: Vec<&mut dyn Pending> = roots.iter_mut().map(|r| r.as_mut() as &mut dyn Pending).collect();
    app.save(&mut pending).await.unwrap();
}

pub async fn views_rebuilt_from_10000_events_equal_the_views_built_incrementally(stores: ProjectionStores) {
    let app = app(&stores);
    for chunk in 0..10 {
        simulate(&app, 50, chunk * 50).await;
        catch_up(&stores, &app).await;
    }
    assert_eq!(app.max_notification_id().await.unwrap(), 10_500);
    let incremental = catch_up(&stores, &app).await;
    assert_eq!(incremental.iter().map(Vec::len).collect::<Vec<_>>(), vec![1500, 1500, 500, 1500]);
    let mut rebuilt = Vec::new();
    for (definition, projection) in workflow::views() {
        let runner = ProjectionRunner::new(app.clone(), stores.views.clone(), definition.clone(), projection);
        runner.rebuild(|_| {}).await.unwrap();
        rebuilt.push(rows(&stores, &definition.name).await);
    }
    assert!(incremental == rebuilt, "rebuilt views differ from incremental ones");
}

//! BIOMERO's workflow domain and its four views, over any adapter. The rows
//! expected here follow `biomero.views`; the peer test checks them against
//! BIOMERO itself.

use chrono::Duration;
use serde_json::{json, Value};
use tributary::domain::{to_iso, Pending};
use tributary::persistence::RowQuery;
use tributary::projection::ProjectionRunner;
use tributary::workflow::{self, task_statistics, RunCommands, Task, TaskCommands, WorkflowRun, TASK_ANALYTICS};
use tributary::{Application, Error, NewEvent, Root};

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

/// Saves aggregates in the order given, each save one transaction (as BIOMERO's tracker).
async fn save(app: &Application, roots: &mut [&mut dyn Pending]) {
    app.save(roots).await.unwrap();
}

pub async fn the_views_follow_a_workflow_run_from_start_to_end(stores: ProjectionStores) {
    let app = app(&stores);
    let mut run = WorkflowRun::initiate("cellpose", "segment nuclei ✓", 5, 7).unwrap();
    save(&app, &mut [&mut run]).await;
    let mut tasks = Vec::new();
    for (name, version) in [("_SLURM_Image_Transfer.py", "1.0"), ("cellpose", "v1.2.7"), ("SLURM_Get_Results.py", "1.0")] {
        let mut task = Task::create(run.id(), name, version, json!({ "images": [1, 2] }), json!({ "diameter": 30.5 })).unwrap();
        save(&app, &mut [&mut task]).await;
        run.add_task(task.id()).unwrap();
        save(&app, &mut [&mut run]).await;
        tasks.push(task);
    }
    run.start_workflow().unwrap();
    let [transfer, main, results] = &mut tasks[..] else { unreachable!() };
    transfer.start_task().unwrap();
    transfer.update_task_status("RUNNING").unwrap();
    save(&app, &mut [&mut run, transfer]).await;
    catch_up(&stores, &app).await;
    let progress = row(&stores, workflow::WORKFLOW_PROGRESS, run.id()).await;
    assert_eq!(
        progress,
        json!({ "status": "TRANSFERRING", "progress": "5%", "user": 5, "group": 7, "name": "cellpose", "task": "SLURM_Get_Results.py",
            "mainTaskName": "cellpose", "startTime": to_iso(&run.created_on()) })
    );
    // the Slurm job of the main task: its status, then its progress, then done
    main.start_task().unwrap();
    main.add_job_id(json!(17)).unwrap();
    main.update_task_status("RUNNING").unwrap();
    save(&app, &mut [main]).await;
    catch_up(&stores, &app).await;
    assert_eq!(row(&stores, workflow::JOB_PROGRESS, 17).await, json!({ "status": "RUNNING", "progress": null }));
    assert_eq!(row(&stores, workflow::WORKFLOW_PROGRESS, run.id()).await["status"], "JOB_RUNNING");
    main.update_task_progress("43%").unwrap();
    save(&app, &mut [main]).await;
    catch_up(&stores, &app).await;
    assert_eq!(row(&stores, workflow::WORKFLOW_PROGRESS, run.id()).await["progress"], "50%", "progress alone does not move it");
    main.update_task_status("COMPLETED").unwrap();
    let ended = main.modified_on() + Duration::seconds(90);
    main.trigger_at("TaskCompleted", json!({ "result": "812 cells" }), ended).unwrap();
    save(&app, &mut [main]).await;
    catch_up(&stores, &app).await;
    let progress = row(&stores, workflow::WORKFLOW_PROGRESS, run.id()).await;
    assert_eq!((&progress["status"], &progress["progress"]), (&json!("JOB_COMPLETED"), &json!("67.2%")), "50% + 43% of 40%");
    results.update_task_status("POSTPROCESSING").unwrap();
    save(&app, &mut [results]).await;
    catch_up(&stores, &app).await;
    assert_eq!(row(&stores, workflow::WORKFLOW_PROGRESS, run.id()).await["progress"], "95%");
    run.complete_workflow().unwrap();
    save(&app, &mut [&mut run]).await;
    catch_up(&stores, &app).await;
    // then
    let progress = row(&stores, workflow::WORKFLOW_PROGRESS, run.id()).await;
    assert_eq!((&progress["status"], &progress["progress"]), (&json!("DONE"), &json!("100%")));
    assert_eq!(row(&stores, workflow::JOB_ACCOUNTING, 17).await, json!({ "user": 5, "group": 7, "taskId": main.id().to_string() }));
    assert_eq!(row(&stores, workflow::JOB_PROGRESS, 17).await, json!({ "status": "COMPLETED", "progress": "43%" }));
    assert_eq!(
        row(&stores, TASK_ANALYTICS, main.id()).await,
        json!({ "taskName": "cellpose", "taskVersion": "v1.2.7", "userId": 5, "groupId": 7, "status": "COMPLETED",
            "startTime": to_iso(&main.created_on()), "endTime": to_iso(&ended), "errorType": null })
    );
    // a task that was created and added but never reported: written once, before its run was known to it
    assert_eq!(row(&stores, TASK_ANALYTICS, results.id()).await["userId"], 5, "its status update rewrote it with the run's user");
    // lookups stay private; queries by index work
    let listed = catch_up(&stores, &app).await;
    assert_eq!(listed.iter().map(Vec::len).collect::<Vec<_>>(), [1, 1, 1, 3]);
    let by_user = stores
        .views
        .query_rows(workflow::JOB_ACCOUNTING, &RowQuery::equal("user", tributary::persistence::IndexKey::Number(5.0)))
        .await
        .unwrap();
    assert_eq!(by_user.len(), 1);
}

pub async fn a_failing_task_fails_its_run_and_unknown_tasks_are_skipped(stores: ProjectionStores) {
    let app = app(&stores);
    let mut run = WorkflowRun::initiate("stardist", "", 1, 2).unwrap();
    save(&app, &mut [&mut run]).await;
    let mut convert = Task::create(run.id(), "convert_zarr_to_tiff", "1.0", json!({}), json!({})).unwrap();
    save(&app, &mut [&mut convert]).await;
    run.add_task(convert.id()).unwrap();
    run.start_workflow().unwrap();
    save(&app, &mut [&mut run]).await;
    convert.update_task_status("RUNNING").unwrap();
    convert.fail_task("no such file").unwrap();
    save(&app, &mut [&mut convert]).await;
    run.fail_workflow("conversion failed").unwrap();
    save(&app, &mut [&mut run]).await;
    // a task of no known run, and a job of no known task
    let mut stray = Task::create(run.id(), "orphan", "1", json!({}), json!({})).unwrap();
    stray.add_job_id(json!(99)).unwrap();
    stray.update_task_status("RUNNING").unwrap();
    save(&app, &mut [&mut stray]).await;
    catch_up(&stores, &app).await;
    let progress = row(&stores, workflow::WORKFLOW_PROGRESS, run.id()).await;
    assert_eq!((&progress["status"], &progress["progress"]), (&json!("FAILED"), &json!("25%")), "failing keeps the progress");
    assert_eq!(progress["mainTaskName"], "convert_zarr_to_tiff", "no main task: the current one");
    let analytics = row(&stores, TASK_ANALYTICS, convert.id()).await;
    assert_eq!((&analytics["status"], &analytics["errorType"]), (&json!("RUNNING"), &json!("no such file")));
    assert!(analytics["endTime"].is_string());
    assert_eq!(row(&stores, workflow::JOB_ACCOUNTING, 99).await, Value::Null, "the job's task was never added to a run");
    assert_eq!(row(&stores, workflow::JOB_PROGRESS, 99).await, json!({ "status": "RUNNING", "progress": null }));
    assert_eq!(row(&stores, TASK_ANALYTICS, stray.id()).await["userId"], Value::Null);
}

pub async fn task_statistics_give_failure_rates_and_mean_durations_per_task_name(stores: ProjectionStores) {
    let app = app(&stores);
    let mut run = WorkflowRun::initiate("w", "", 1, 1).unwrap();
    save(&app, &mut [&mut run]).await;
    let mut tasks = Vec::new();
    for (name, seconds, fails) in
        [("segment", 10, false), ("segment", 30, false), ("segment", 5, true), ("measure", 60, false), ("export", 0, false)]
    {
        let mut task = Task::create(run.id(), name, "1", json!({}), json!({})).unwrap();
        let at = task.created_on() + Duration::seconds(seconds);
        match (name, fails) {
            ("export", _) => {}
            (_, true) => task.trigger_at("TaskFailed", json!({ "error_message": "x" }), at).unwrap(),
            (_, false) => task.trigger_at("TaskCompleted", json!({ "result": "ok" }), at).unwrap(),
        }
        tasks.push(task);
    }
    let mut pending: Vec<&mut dyn Pending> = tasks.iter_mut().map(|t| t as &mut dyn Pending).collect();
    save(&app, &mut pending).await;
    catch_up(&stores, &app).await;
    let analytics = stores.views.query_rows(TASK_ANALYTICS, &RowQuery::default()).await.unwrap();
    let stats: Vec<Value> = task_statistics(&analytics).iter().map(|s| serde_json::to_value(s).unwrap()).collect();
    assert_eq!(
        stats,
        vec![
            json!({ "name": "export", "count": 1, "finished": 0, "failed": 0, "failureRate": 0.0, "meanDurationMs": null }),
            json!({ "name": "measure", "count": 1, "finished": 1, "failed": 0, "failureRate": 0.0, "meanDurationMs": 60000.0 }),
            json!({ "name": "segment", "count": 3, "finished": 3, "failed": 1, "failureRate": 1.0 / 3.0, "meanDurationMs": 15000.0 }),
        ]
    );
}

/// Saves `runs` workflow runs of three tasks each as BIOMERO's tracker does,
/// in phases of one save each: 27 events a run.
async fn simulate(app: &Application, runs: usize, seed: usize) {
    let mut all: Vec<(Root<WorkflowRun>, Vec<Root<Task>>)> = Vec::new();
    for r in 0..runs {
        let n = seed + r;
        let run = WorkflowRun::initiate(["segment", "track", "classify"][n % 3], "", (n % 2) as i64, (n % 5 / 4) as i64).unwrap();
        all.push((run, Vec::new()));
    }
    let mut runs_pending: Vec<&mut dyn Pending> = all.iter_mut().map(|(run, _)| run as &mut dyn Pending).collect();
    app.save(&mut runs_pending).await.unwrap();
    for (n, (run, tasks)) in all.iter_mut().enumerate() {
        for t in 0..3 {
            tasks.push(
                Task::create(run.id(), ["_SLURM_Image_Transfer.py", "cellpose", "SLURM_Get_Results.py"][t], "1.0", json!({}), json!({}))
                    .unwrap(),
            );
        }
        let mut pending: Vec<&mut dyn Pending> = tasks.iter_mut().map(|t| t as &mut dyn Pending).collect();
        app.save(&mut pending).await.unwrap();
        for task in tasks.iter() {
            run.add_task(task.id()).unwrap();
        }
        run.start_workflow().unwrap();
        app.save(&mut [run]).await.unwrap();
        for (t, task) in tasks.iter_mut().enumerate() {
            task.start_task().unwrap();
            task.add_job_id(json!((seed + n) * 3 + t)).unwrap();
            task.update_task_status("RUNNING").unwrap();
            task.update_task_progress(&format!("{}%", (n * 7 + t) % 100)).unwrap();
            task.update_task_status("COMPLETED").unwrap();
            if (seed + n + t) % 7 == 0 {
                task.fail_task("node lost").unwrap()
            } else {
                task.complete_task("ok").unwrap()
            }
        }
        let mut pending: Vec<&mut dyn Pending> = tasks.iter_mut().map(|t| t as &mut dyn Pending).collect();
        app.save(&mut pending).await.unwrap();
        if (seed + n) % 7 == 0 {
            run.fail_workflow("a task failed").unwrap()
        } else {
            run.complete_workflow().unwrap()
        }
        app.save(&mut [run]).await.unwrap();
    }
}

pub async fn views_rebuilt_from_10000_events_equal_the_views_built_incrementally(stores: ProjectionStores) {
    let app = app(&stores);
    for chunk in 0..8 {
        simulate(&app, 50, chunk * 50).await;
        catch_up(&stores, &app).await;
    }
    assert_eq!(app.max_notification_id().await.unwrap(), 400 * 27);
    let incremental = catch_up(&stores, &app).await;
    assert_eq!(incremental.iter().map(Vec::len).collect::<Vec<_>>(), vec![1200, 1200, 400, 1200]);
    let mut rebuilt = Vec::new();
    for (definition, projection) in workflow::views() {
        let runner = ProjectionRunner::new(app.clone(), stores.views.clone(), definition.clone(), projection);
        runner.rebuild(|_| {}).await.unwrap();
        rebuilt.push(rows(&stores, &definition.name).await);
    }
    assert!(incremental == rebuilt, "rebuilt views differ from incremental ones");
}

pub async fn the_main_task_is_the_first_created_of_those_its_run_holds_now_as_biomero_names_it(stores: ProjectionStores) {
    // given two tasks of a run, created in one order and added in the other
    // (two scripts adding tasks at once: BIOMERO's tracker saves each task, then its run)
    let app = app(&stores);
    let (mut one, mut two) = (WorkflowRun::initiate("one", "", 1, 2).unwrap(), WorkflowRun::initiate("two", "", 1, 2).unwrap());
    save(&app, &mut [&mut one, &mut two]).await;
    let mut cellpose = Task::create(one.id(), "cellpose", "1", json!({}), json!({})).unwrap();
    let mut stardist = Task::create(one.id(), "stardist", "1", json!({}), json!({})).unwrap();
    save(&app, &mut [&mut cellpose, &mut stardist]).await;
    one.add_task(stardist.id()).unwrap();
    one.add_task(cellpose.id()).unwrap();
    save(&app, &mut [&mut one]).await;
    cellpose.update_task_status("RUNNING").unwrap();
    save(&app, &mut [&mut cellpose]).await;
    catch_up(&stores, &app).await;
    // then BIOMERO names the first created (its tasks are kept in the order they were created)
    let progress = row(&stores, workflow::WORKFLOW_PROGRESS, one.id()).await;
    assert_eq!((&progress["task"], &progress["mainTaskName"]), (&json!("cellpose"), &json!("cellpose")));
    // and when that task is added to another run, it is that run's, no longer this one's
    two.add_task(cellpose.id()).unwrap();
    save(&app, &mut [&mut two]).await;
    stardist.update_task_status("RUNNING").unwrap();
    save(&app, &mut [&mut stardist]).await;
    catch_up(&stores, &app).await;
    let progress = row(&stores, workflow::WORKFLOW_PROGRESS, one.id()).await;
    assert_eq!((&progress["task"], &progress["mainTaskName"]), (&json!("cellpose"), &json!("stardist")));
}

pub async fn a_job_id_shaped_like_a_private_key_leaves_the_other_tasks_rows_alone(stores: ProjectionStores) {
    // given two tasks of a run, the first given a job id that reads as the second's lookup key
    let app = app(&stores);
    let mut run = WorkflowRun::initiate("w", "", 5, 7).unwrap();
    save(&app, &mut [&mut run]).await;
    let mut hostile = Task::create(run.id(), "cellpose", "1", json!({}), json!({})).unwrap();
    let mut honest = Task::create(run.id(), "stardist", "1", json!({}), json!({})).unwrap();
    save(&app, &mut [&mut hostile, &mut honest]).await;
    run.add_task(hostile.id()).unwrap();
    run.add_task(honest.id()).unwrap();
    save(&app, &mut [&mut run]).await;
    hostile.add_job_id(json!(format!("\u{0}task:{}", honest.id()))).unwrap();
    hostile.update_task_status("RUNNING").unwrap();
    honest.add_job_id(json!(18)).unwrap();
    save(&app, &mut [&mut hostile, &mut honest]).await;
    honest.update_task_status("PENDING").unwrap();
    save(&app, &mut [&mut honest]).await;
    catch_up(&stores, &app).await;
    // then the honest task's job is accounted for and followed as if the other were not there
    assert_eq!(row(&stores, workflow::JOB_ACCOUNTING, 18).await, json!({ "user": 5, "group": 7, "taskId": honest.id().to_string() }));
    assert_eq!(row(&stores, workflow::JOB_PROGRESS, 18).await, json!({ "status": "PENDING", "progress": null }));
}

pub async fn a_huge_task_progress_gives_the_workflow_progress_biomero_writes(stores: ProjectionStores) {
    // BIOMERO writes f"{50 + (int(p.strip('%')) / 100) * 40}%", its floats as Python's repr
    let app = app(&stores);
    let mut run = WorkflowRun::initiate("w", "", 1, 2).unwrap();
    save(&app, &mut [&mut run]).await;
    let mut task = Task::create(run.id(), "cellpose", "1", json!({}), json!({})).unwrap();
    save(&app, &mut [&mut task]).await;
    run.add_task(task.id()).unwrap();
    save(&app, &mut [&mut run]).await;
    for (progress, expected) in [
        ("1%", "50.4%"),
        ("25000000000000000%", "1.000000000000005e+16%"),
        ("9223372036854775807%", "3.6893488147419105e+18%"),
        ("-25000000000000000%", "-9999999999999950.0%"),
        // Python divides the int by 100 exactly, then rounds once: not the int rounded to a float first
        ("7408596316092197599%", "2.963438526436879e+18%"),
        ("591064915700530116%", "2.364259662802121e+17%"),
    ] {
        task.update_task_progress(progress).unwrap();
        task.update_task_status("RUNNING").unwrap();
        save(&app, &mut [&mut task]).await;
        catch_up(&stores, &app).await;
        assert_eq!(row(&stores, workflow::WORKFLOW_PROGRESS, run.id()).await["progress"], expected, "{progress}");
    }
}

pub async fn a_task_name_that_python_lowers_to_a_known_one_counts_as_that_task(stores: ProjectionStores) {
    // Python's lower() turns the Kelvin sign into "k": BIOMERO reads this as SLURM_Run_Workflow.py
    let app = app(&stores);
    let mut run = WorkflowRun::initiate("w", "", 1, 2).unwrap();
    save(&app, &mut [&mut run]).await;
    let mut task = Task::create(run.id(), "SLURM_Run_Wor\u{212A}flow.py", "1", json!({}), json!({})).unwrap();
    save(&app, &mut [&mut task]).await;
    run.add_task(task.id()).unwrap();
    save(&app, &mut [&mut run]).await;
    task.update_task_status("PENDING").unwrap();
    save(&app, &mut [&mut task]).await;
    catch_up(&stores, &app).await;
    let progress = row(&stores, workflow::WORKFLOW_PROGRESS, run.id()).await;
    assert_eq!((&progress["status"], &progress["progress"]), (&json!("RUNNING"), &json!("50%")));
}

/// Every field a workflow event carries, with a valid value and the JSON kinds it takes.
const FIELDS: &[(&str, &str, &str, &[&str])] = &[
    ("WorkflowRun", "WorkflowInitiated", "name", &["string"]),
    ("WorkflowRun", "WorkflowInitiated", "description", &["string", "null"]),
    ("WorkflowRun", "WorkflowInitiated", "user", &["integer"]),
    ("WorkflowRun", "WorkflowInitiated", "group", &["integer"]),
    ("WorkflowRun", "TaskAdded", "task_id", &["uuid"]),
    ("WorkflowRun", "WorkflowFailed", "error_message", &["string", "null"]),
    ("Task", "TaskCreated", "workflow_id", &["uuid", "null"]),
    ("Task", "TaskCreated", "task_name", &["string"]),
    ("Task", "TaskCreated", "task_version", &["string", "null"]),
    ("Task", "StatusUpdated", "status", &["string", "null"]),
    ("Task", "ProgressUpdated", "progress", &["string", "null"]),
    ("Task", "TaskCompleted", "result", &["string", "null"]),
    ("Task", "TaskFailed", "error_message", &["string", "null"]),
];

pub async fn events_whose_fields_a_workflow_aggregate_cannot_read_are_refused_and_nothing_is_written(stores: ProjectionStores) {
    // given a run and a task, recorded by name as a page records them
    let app = app(&stores);
    let (run, task) = (uuid::Uuid::new_v4(), uuid::Uuid::new_v4());
    let valid = |aggregate: &str, event: &str| -> Value {
        match event {
            "WorkflowInitiated" => json!({ "name": "w", "description": "d", "user": 1, "group": 2 }),
            "TaskAdded" => json!({ "task_id": task.to_string() }),
            "TaskCreated" => {
                json!({ "workflow_id": run.to_string(), "task_name": "cellpose", "task_version": "1", "input_data": {}, "params": {} })
            }
            "StatusUpdated" => json!({ "status": "RUNNING" }),
            "ProgressUpdated" => json!({ "progress": "5%" }),
            "TaskCompleted" => json!({ "result": "ok" }),
            _ if aggregate == "Task" => json!({ "error_message": "lost" }),
            _ => json!({ "error_message": "failed" }),
        }
    };
    let request = |aggregate: &str, event: &str, payload: Value| NewEvent {
        aggregate_type: aggregate.into(),
        id: Some(if aggregate == "Task" { task } else { run }),
        event: event.into(),
        payload,
        expected_version: None,
    };
    app.record(&[request("WorkflowRun", "WorkflowInitiated", valid("WorkflowRun", "WorkflowInitiated"))]).await.unwrap();
    app.record(&[request("Task", "TaskCreated", valid("Task", "TaskCreated"))]).await.unwrap();
    let head = app.max_notification_id().await.unwrap();
    // when each field is given values of kinds it does not take (generated), alone or beside a valid event
    let kinds: &[(&str, Value)] = &[
        ("null", Value::Null),
        ("bool", json!(true)),
        ("integer", json!(7)),
        ("float", json!(1.5)),
        ("huge", json!(1e300)),
        ("u64", json!(u64::MAX)),
        ("string", json!("not a uuid")),
        ("array", json!(["x"])),
        ("object", json!({ "a": 1 })),
    ];
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = |n: usize| {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (seed >> 33) as usize % n
    };
    let mut refused = 0;
    for _ in 0..300 {
        let (aggregate, event, field, takes) = FIELDS[next(FIELDS.len())];
        let (kind, wrong) = &kinds[next(kinds.len())];
        if takes.contains(kind) {
            continue;
        }
        let mut payload = valid(aggregate, event);
        payload[field] = wrong.clone();
        let mut batch = vec![request(aggregate, event, payload.clone())];
        if next(2) == 0 {
            batch.insert(0, request("Task", "StatusUpdated", valid("Task", "StatusUpdated")));
        }
        // then each is refused as a wrong call, and nothing of its batch is written
        match app.record(&batch).await {
            Err(Error::Validation(message)) => assert!(message.contains(field), "{message}"),
            other => panic!("{aggregate}.{event} with {field} = {wrong}: {other:?}"),
        }
        refused += 1;
    }
    assert!(refused > 150, "{refused} refused");
    assert_eq!(app.max_notification_id().await.unwrap(), head, "nothing was written");
    // and both aggregates read as before
    assert_eq!(app.get::<WorkflowRun>(run).await.unwrap().state().user, 1);
    assert_eq!(app.get::<Task>(task).await.unwrap().state().task_name, "cellpose");
}

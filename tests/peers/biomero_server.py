"""A real BIOMERO server for a browser to follow: BIOMERO's own WorkflowTracker and
its four views, wired as BIOMERO's SlurmClient wires them, recording into an SQLite
file through eventsourcing_sqlalchemy, with the tracker's notification log served
over HTTP in the JSON of the library's NotificationLogJSONService.

    python biomero_server.py --db PATH --port PORT [--workflows N] [--seed S]
                             [--compress] [--cipher-key BASE64]

Drives N workflows through the tracker (deterministic from the seed), prints
`ready http://127.0.0.1:PORT` (port 0 picks a free one) and serves, to pages on any
origin, until SIGTERM or SIGINT:

    GET  /log/{first},{last}       a section of the notification log
    GET  /notifications?start=N&limit=M[&topics=A,B][&inclusive_of_start=false]
    GET  /views                    BIOMERO's four view tables, as stored
    GET  /max                      {"max_notification_id": int}
    POST /drive?workflows=N        drives N more workflows
"""

import argparse
import json
import random
import signal
from concurrent.futures import ThreadPoolExecutor
from datetime import timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from urllib.parse import parse_qsl, unquote, urlsplit

from biomero.database import EngineManager, JobProgressView, JobView, TaskExecution, WorkflowProgressView
from biomero.eventsourcing import WorkflowTracker
from biomero.views import JobAccounting, JobProgress, WorkflowAnalytics, WorkflowProgress
from eventsourcing.interface import NotificationLogJSONService
from eventsourcing.system import SingleThreadedRunner, System

MAIN_TASKS = {"cellpose": "v1.2.7", "stardist": "v1.3.2", "cellexpansion": "v1.0.1"}
SLURM_JOB_IDS_FROM = 4200000
OUTCOMES = ("completed", "failed", "completed", "running")


# ---- Serving a notification log over HTTP ------------------------------------------


def serve_notification_log(app, port, more_routes):
    """Serves `app`'s notification log on 127.0.0.1:`port` as the library's
    NotificationLogJSONService writes it: GET /log/{first},{last} and
    GET /notifications?start=N&limit=M[&topics=A,B][&inclusive_of_start=false].
    Other requests go to `more_routes(method, path, query)`: JSON text, or None."""
    service = NotificationLogJSONService(app)

    def route(method, path, query):
        if method == "GET" and path.startswith("/log/"):
            return service.get_log_section(path.removeprefix("/log/"))
        if method == "GET" and path == "/notifications":
            return service.get_notifications(
                start=int(query["start"]),
                limit=int(query["limit"]),
                topics=[topic for topic in query.get("topics", "").split(",") if topic],
                inclusive_of_start=query.get("inclusive_of_start") != "false",
            )
        return more_routes(method, path, query)

    return ThreadingHTTPServer(("127.0.0.1", port), json_handler(route))


def json_handler(route):
    """A request handler answering `route`'s JSON to any origin. The application
    work runs on one thread, one request at a time, as BIOMERO's runner expects."""
    worker = ThreadPoolExecutor(max_workers=1)

    class Handler(BaseHTTPRequestHandler):
        def do_OPTIONS(self):
            self.reply(204, b"", {
                "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
                "Access-Control-Allow-Headers": "authorization, content-type",
                "Access-Control-Max-Age": "600",
            })

        def do_GET(self):
            self.answer("GET")

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.answer("POST")

        def answer(self, method):
            url = urlsplit(self.path)
            query = dict(parse_qsl(url.query))
            try:
                status, body = 200, worker.submit(route, method, unquote(url.path), query).result()
                if body is None:
                    status, body = 404, json.dumps({"error": f"no such resource: {method} {url.path}"})
            except (KeyError, ValueError) as error:
                status, body = 400, json.dumps({"error": f"bad request: {error!r}"})
            except Exception as error:
                status, body = 500, json.dumps({"error": f"{type(error).__name__}: {error}"})
            self.reply(status, body.encode("utf8"), {"Content-Type": "application/json"})

        def reply(self, status, body, headers):
            self.send_response(status)
            self.send_header("Access-Control-Allow-Origin", "*")
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format, *args):
            pass

    return Handler


# ---- BIOMERO, wired as its SlurmClient wires it --------------------------------------


def start_biomero(db_path, compress, cipher_key):
    """Starts BIOMERO's WorkflowTracker and four views on the SQLite file, as
    SlurmClient.initialize_analytics_system does, with the library's codecs if asked."""
    system = System(pipes=[
        [WorkflowTracker, JobAccounting],
        [WorkflowTracker, JobProgress],
        [WorkflowTracker, WorkflowProgress],
        [WorkflowTracker, WorkflowAnalytics],
    ])
    env = {
        "SQLALCHEMY_SCOPED_SESSION_TOPIC": EngineManager.create_scoped_session(f"sqlite:///{db_path}"),
        "PERSISTENCE_MODULE": "eventsourcing_sqlalchemy",
    }
    if compress:
        env["COMPRESSOR_TOPIC"] = "eventsourcing.compressor:ZlibCompressor"
    if cipher_key:
        # The cryptography package's AESCipher: the same bytes as eventsourcing.cipher's,
        # which needs pycryptodome (not in eventsourcing[cryptography]).
        env["CIPHER_TOPIC"] = "eventsourcing.cryptography:AESCipher"
        env["CIPHER_KEY"] = cipher_key
    runner = SingleThreadedRunner(system, env=env)
    runner.start()
    check_codecs(runner.apps.values(), compress, bool(cipher_key))
    return runner


def check_codecs(apps, compress, encrypt):
    """Fails unless every application maps its stored state with the asked codecs."""
    for app in apps:
        if (app.mapper.compressor is not None, app.mapper.cipher is not None) != (compress, encrypt):
            raise RuntimeError(f"{app.name} does not use the asked codecs")


# ---- Driving workflows through the tracker ------------------------------------------


class WorkflowDriver:
    """Drives workflows through BIOMERO's WorkflowTracker as BIOMERO's OMERO scripts do:
    transfer, conversion and main task on SLURM, then results retrieved and imported.
    Workflow number k is deterministic from the seed and k."""

    def __init__(self, tracker, seed):
        self.tracker = tracker
        self.seed = seed
        self.driven = 0

    def drive(self, count):
        for _ in range(count):
            self.drive_one(self.driven)
            self.driven += 1

    def drive_one(self, k):
        rng = random.Random(f"{self.seed}:{k}")
        conversion_job, main_job = SLURM_JOB_IDS_FROM + 2 * k, SLURM_JOB_IDS_FROM + 2 * k + 1
        main_task = rng.choice(sorted(MAIN_TASKS))
        zipfile = f"Expériment_細胞_{k:03d}"
        wf = self.tracker.initiate_workflow(
            "SLURM_Run_Workflow.py",
            f"Segmentation des noyaux — {main_task} on µm-scale images\n{MAIN_TASKS[main_task]}",
            rng.randint(2, 9),
            rng.choice([3, 53, 103]),
        )
        self.tracker.start_workflow(wf)
        launcher = self.start_new_task(wf, "SLURM_Run_Workflow.py", "2.8.0", {"IDs": [k + 1]}, {"workflow": main_task})
        self.transfer_and_convert(wf, rng, zipfile, conversion_job)
        main_input = {"zipfile": zipfile, "omero_ids": [k + 1, k + 2]}
        main = self.start_new_task(wf, main_task, MAIN_TASKS[main_task], main_input, main_params(rng))
        self.submit(main, main_job, main_task)
        self.finish(wf, launcher, main, main_job, rng, OUTCOMES[k % len(OUTCOMES)])

    def transfer_and_convert(self, wf, rng, zipfile, job):
        transfer_params = {"Data_Type": "Image", "Format": "zarr", "Folder_Name": zipfile}
        transfer_data = transfer_input(rng, zipfile)
        transfer = self.start_new_task(wf, "_SLURM_Image_Transfer.py", "2.8.0", transfer_data, transfer_params)
        self.tracker.complete_task(transfer, f"Exported {zipfile}.zip to SLURM")
        conversion_name = rng.choice(["convert_zarr_to_tiff", "CONVERT_ZARR_TO_TIFF"])
        conversion_data = {"data_path": f"/data/my-scratch/data/{zipfile}"}
        conversion = self.start_new_task(wf, conversion_name, "v1.0.0", conversion_data, {})
        self.submit(conversion, job, "convert")
        self.run_job(conversion, rng, "COMPLETED")
        self.tracker.complete_task(conversion, "Converted zarr to tiff")

    def finish(self, wf, launcher, main, job, rng, outcome):
        """Leaves the workflow running, fails it on its main job, or completes it."""
        if outcome == "running":
            self.run_job(main, rng)
        elif outcome == "failed":
            self.run_job(main, rng, "FAILED")
            self.tracker.fail_task(main, "Slurm job state FAILED")
            self.tracker.fail_workflow(wf, "Workflow execution failed")
        else:
            self.run_job(main, rng, "COMPLETED")
            self.tracker.complete_task(main, f"Job {job} is COMPLETED.")
            self.retrieve_and_import(wf, rng, job)
            self.tracker.complete_task(launcher, "Workflow done")
            self.tracker.complete_workflow(wf)

    def start_new_task(self, wf, name, version, input_data, params):
        task = self.tracker.add_task_to_workflow(wf, name, version, input_data, params)
        self.tracker.start_task(task)
        return task

    def submit(self, task, job, script):
        self.tracker.add_job_id(task, job)
        self.tracker.add_result(task, SimpleNamespace(
            command=f"sbatch --job-name={script} --output=omero-%j.log {script}.sh",
            env={"DATA_PATH": "/data/my-scratch/data", "SLURM": {"partition": "cpu"}},
            stdout=f"Submitted batch job {job}\n",
            stderr="",
        ))

    def run_job(self, task, rng, final_status=None):
        """Polls the job as BIOMERO does: each poll records a status, then a progress."""
        progress = 0
        polls = [("PENDING", None)]
        for _ in range(rng.randint(1, 3)):
            progress = min(99, progress + rng.randint(5, 45))
            polls.append(("RUNNING", f"{progress}%"))
        if final_status:
            polls.append((final_status, "100%" if final_status == "COMPLETED" else f"{progress}%"))
        for status, progress in polls:
            self.tracker.update_task_status(task, status)
            self.tracker.update_task_progress(task, progress)

    def retrieve_and_import(self, wf, rng, job):
        results = self.start_new_task(wf, "SLURM_Get_Results.py", "2.8.0", {"SLURM_Job_Id": job}, {"unpack": True})
        for status in ["RUNNING", "POSTPROCESSING", "COMPLETED"]:
            self.tracker.update_task_status(results, status)
        self.tracker.complete_task(results, f"Retrieved results of job {job}")
        if rng.random() < 0.5:
            return
        imported = self.start_new_task(wf, "SLURM_Import_Results.py", "2.8.0", {"IDs": [job]}, {
            "Dataset": f"results_{job}", "Attach_Files": False,
        })
        for status in ["IMPORTING", "IMPORTED"]:
            self.tracker.update_task_status(imported, status)
        self.tracker.complete_task(imported, "Imported 2 images")


def transfer_input(rng, zipfile):
    return {"IDs": sorted(rng.sample(range(1, 500), 3)), "Data_Type": "Image", "Folder_Name": zipfile}


def main_params(rng):
    return {
        "diameter": round(rng.uniform(10, 40), 2),
        "cellprob_threshold": 0.0,
        "use_gpu": rng.random() < 0.5,
        "slurm": {"partition": "gpu", "time": "02:00:00", "resources": {"cpus": 4, "mem_gb": 5.5}},
    }


# ---- BIOMERO's view tables as JSON -------------------------------------------------


def read_views():
    """BIOMERO's four view tables as stored, read back through SQLAlchemy."""
    with EngineManager.get_session() as session:
        return {
            "jobAccounting": {
                str(row.slurm_job_id): {"user": row.user, "group": row.group, "taskId": uuid_text(row.task_id)}
                for row in session.query(JobView).order_by(JobView.slurm_job_id)
            },
            "jobProgress": {
                str(row.slurm_job_id): {"status": row.status, "progress": row.progress}
                for row in session.query(JobProgressView).order_by(JobProgressView.slurm_job_id)
            },
            "workflowProgress": {
                str(row.workflow_id): {
                    "status": row.status, "progress": row.progress, "user": row.user, "group": row.group,
                    "name": row.name, "task": row.task, "mainTaskName": row.main_task_name,
                    "startTime": utc_text(row.start_time),
                }
                for row in session.query(WorkflowProgressView).order_by(WorkflowProgressView.start_time)
            },
            "taskAnalytics": {
                str(row.task_id): {
                    "taskName": row.task_name, "taskVersion": row.task_version, "userId": row.user_id,
                    "groupId": row.group_id, "status": row.status, "startTime": utc_text(row.start_time),
                    "endTime": utc_text(row.end_time), "errorType": row.error_type,
                }
                for row in session.query(TaskExecution).order_by(TaskExecution.start_time)
            },
        }


def uuid_text(value):
    return None if value is None else str(value)


def utc_text(value):
    """SQLite gives back naive datetimes: they are UTC."""
    return None if value is None else value.replace(tzinfo=timezone.utc).isoformat()


# ---- Main -------------------------------------------------------------------------


def biomero_routes(tracker, driver):
    def route(method, path, query):
        if method == "GET" and path == "/views":
            return json.dumps(read_views())
        if method == "GET" and path == "/max":
            return json.dumps({"max_notification_id": tracker.recorder.max_notification_id() or 0})
        if method == "POST" and path == "/drive":
            driver.drive(int(query.get("workflows", "1")))
            return json.dumps({"max_notification_id": tracker.recorder.max_notification_id() or 0})
        return None

    return route


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True, help="SQLite file")
    parser.add_argument("--port", type=int, required=True, help="0 picks a free port")
    parser.add_argument("--workflows", type=int, default=12)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--compress", action="store_true", help="zlib-compress stored state")
    parser.add_argument("--cipher-key", help="AES key, base64: encrypt stored state")
    return parser.parse_args()


def stop(signum, frame):
    raise KeyboardInterrupt


def main():
    args = parse_args()
    runner = start_biomero(args.db, args.compress, args.cipher_key)
    tracker = runner.get(WorkflowTracker)
    driver = WorkflowDriver(tracker, args.seed)
    driver.drive(args.workflows)
    server = serve_notification_log(tracker, args.port, biomero_routes(tracker, driver))
    signal.signal(signal.SIGTERM, stop)
    print(f"ready http://127.0.0.1:{server.server_port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        runner.stop()
        EngineManager.close_engine()


if __name__ == "__main__":
    main()

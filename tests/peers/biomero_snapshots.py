"""Records workflow runs and tasks with BIOMERO's own aggregate classes, as a
BIOMERO server does, snapshotting each after every event; prints the stored
events and snapshots as JSON lines ({"kind": "event" | "snapshot",
"originator_id", "originator_version", "topic", "state_b64"}). Generated from
the seed on the command line: descriptions and task versions are sometimes
None, as BIOMERO passes them.

    python biomero_snapshots.py SEED > records.jsonl
"""

import base64
import json
import random
import sys
from uuid import UUID

from biomero.eventsourcing import Task, WorkflowRun
from eventsourcing.application import Application
from eventsourcing.domain import Snapshot


def text(rng):
    return "".join(rng.choice("abcé ✓𝄞_-") for _ in range(rng.randint(0, 12)))


def main():
    rng = random.Random(int(sys.argv[1]))
    mapper = Application().mapper
    aggregates = []
    for _ in range(3):
        run = WorkflowRun(text(rng) or "w", rng.choice([None, text(rng)]), rng.randint(-2**63, 2**63 - 1), rng.randint(0, 99))
        task = Task(run.id, text(rng) or "t", rng.choice([None, text(rng)]), {"ids": [rng.randint(0, 9)]}, {"x": rng.random()})
        run.add_task(task.id)
        for step in rng.sample(["start", "job", "status", "progress", "complete"], rng.randint(0, 5)):
            if step == "start":
                task.start_task()
                run.start_workflow()
            elif step == "job":
                task.add_job_id(rng.randint(-1, 10**6))
            elif step == "status":
                task.update_task_status(rng.choice(["PENDING", "RUNNING", "COMPLETED"]))
            elif step == "progress":
                task.update_task_progress(f"{rng.randint(0, 100)}%")
            else:
                task.complete_task(text(rng))
                rng.choice([run.complete_workflow, lambda: run.fail_workflow(text(rng))])()
        aggregates += [run, task]
    for aggregate in aggregates:
        replayed = None
        for event in aggregate.collect_events():
            replayed = event.mutate(replayed)
            for kind, record in (("event", event), ("snapshot", Snapshot.take(replayed))):
                stored = mapper.to_stored_event(record)
                print(json.dumps({
                    "kind": kind,
                    "originator_id": str(stored.originator_id),
                    "originator_version": stored.originator_version,
                    "topic": stored.topic,
                    "state_b64": base64.b64encode(stored.state).decode(),
                }))


main()

"""Replays events tributary recorded with BIOMERO's own aggregate classes, as a
BIOMERO server would when it reads them: stored events as JSON lines on stdin
({"originator_id", "originator_version", "topic", "state_b64"}), one aggregate's
events in order per id, a snapshot before them if any; prints each aggregate's
attributes as JSON, or with --snapshot the snapshot BIOMERO would take of each,
as a stored record on a JSON line.

    python biomero_replay.py [--snapshot] < events.jsonl
"""

import base64
import json
import sys
from uuid import UUID

import biomero.eventsourcing  # noqa: F401  (the classes the topics name)
from eventsourcing.application import Application
from eventsourcing.domain import Snapshot
from eventsourcing.persistence import StoredEvent


def main():
    mapper = Application().mapper
    aggregates = {}
    for line in sys.stdin:
        record = json.loads(line)
        stored = StoredEvent(
            originator_id=UUID(record["originator_id"]),
            originator_version=record["originator_version"],
            topic=record["topic"],
            state=base64.b64decode(record["state_b64"]),
        )
        event = mapper.to_domain_event(stored)
        aggregates[stored.originator_id] = event.mutate(aggregates.get(stored.originator_id))
    if sys.argv[1:] == ["--snapshot"]:
        for aggregate in aggregates.values():
            stored = mapper.to_stored_event(Snapshot.take(aggregate))
            print(json.dumps({
                "originator_id": str(stored.originator_id),
                "originator_version": stored.originator_version,
                "topic": stored.topic,
                "state_b64": base64.b64encode(stored.state).decode(),
            }))
        return
    out = {}
    for id, aggregate in aggregates.items():
        attributes = {k: v for k, v in vars(aggregate).items() if not k.startswith("_")}
        out[str(id)] = {
            "class": type(aggregate).__name__,
            "version": aggregate.version,
            **{k: (str(v) if isinstance(v, UUID) else [str(x) if isinstance(x, UUID) else x for x in v] if isinstance(v, list) else v)
               for k, v in attributes.items()},
            "uuid_typed": sorted(k for k, v in attributes.items() if isinstance(v, UUID) or (isinstance(v, list) and v and all(isinstance(x, UUID) for x in v))),
        }
    print(json.dumps(out))


main()

"""Replays events tributary recorded with BIOMERO's own aggregate classes, as a
BIOMERO server would when it reads them: stored events as JSON lines on stdin
({"originator_id", "originator_version", "topic", "state_b64"}), one aggregate's
events in order per id; prints each aggregate's attributes as JSON.

    python biomero_replay.py < events.jsonl
"""

import base64
import json
import sys
from uuid import UUID

import biomero.eventsourcing  # noqa: F401  (the classes the topics name)
from eventsourcing.application import Application
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

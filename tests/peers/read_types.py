"""Reads every event of a tributary server's SQLite file with the Python
eventsourcing library's transcoder, and says which Python type each field of
each event's state decodes to (to check that UUIDs arrive as `UUID`).

    python read_types.py SQLITE_FILE

Prints one JSON list, in log order: {"topic", "fields": {name: type name}}.
"""

import json
import os
import sys

os.environ["PERSISTENCE_MODULE"] = "eventsourcing.sqlite"
os.environ["SQLITE_DBNAME"] = sys.argv[1]

from eventsourcing.application import Application  # noqa: E402

app = Application()
out = []
for notification in app.recorder.select_notifications(1, 1000):
    state = app.mapper.transcoder.decode(notification.state)
    out.append({"topic": notification.topic, "fields": {k: type(v).__name__ for k, v in state.items()}})
print(json.dumps(out))

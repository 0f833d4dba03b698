"""Reads a tributary server's log as the Python eventsourcing library does, two ways:
opened straight on the server's SQLite file (its JSON service, byte for byte), and
over HTTP through the library's NotificationLogJSONClient.

    python read_log.py FILE BASE_URL TOKEN

Prints one JSON object: what the service writes for some sections and selections,
and what the client read over HTTP.
"""

import json
import os
import sys
import urllib.parse
import urllib.request

path, base, token = sys.argv[1:4]
os.environ["PERSISTENCE_MODULE"] = "eventsourcing.sqlite"
os.environ["SQLITE_DBNAME"] = path

from eventsourcing.application import Application  # noqa: E402
from eventsourcing.interface import (  # noqa: E402
    NotificationLogInterface,
    NotificationLogJSONClient,
    NotificationLogJSONService,
)

service = NotificationLogJSONService(Application())
topics = sys.argv[4].split(",") if len(sys.argv) > 4 else []
out = {
    "sections": {s: service.get_log_section(s) for s in ["1,10", "1,3", "2,5", "11,20", "4,4", "100,200"]},
    "notifications": {
        "from 1": service.get_notifications(1, 10),
        "from 3": service.get_notifications(3, 4),
        "after 3": service.get_notifications(3, 4, inclusive_of_start=False),
        "topics": service.get_notifications(1, 10, topics),
    },
}


class HttpLog(NotificationLogInterface):
    """The server's notification log, over a few lines of HTTP."""

    def _get(self, path):
        request = urllib.request.Request(base + path, headers={"Authorization": "Bearer " + token})
        with urllib.request.urlopen(request) as response:
            return response.read().decode("utf8")

    def get_log_section(self, section_id):
        return self._get("/log/" + section_id)

    def get_notifications(self, start, limit, topics=(), *, inclusive_of_start=True):
        query = {"start": start, "limit": limit, "inclusive_of_start": str(inclusive_of_start).lower()}
        if topics:
            query["topics"] = ",".join(topics)
        return self._get("/notifications?" + urllib.parse.urlencode(query))


client = NotificationLogJSONClient(HttpLog())
section = client["1,10"]
out["client"] = {
    "section": [section.id, section.next_id, [[n.id, n.originator_id.hex, n.originator_version, n.topic, n.state.hex()] for n in section.items]],
    "select": [[n.id, n.topic] for n in client.select(2, 10, topics=topics)],
}
print(json.dumps(out))

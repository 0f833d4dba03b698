"""The Python eventsourcing library's DogSchool on tributary's PostgreSQL tables:
reads a dog the server recorded, then teaches it a trick (a write through the
library's own recorder: its table lock, its NOTIFY without payload).

    python postgres_dogs.py DBNAME HOST PORT SCHEMA DOG_ID TRICK

Prints one JSON object: the dog before and after, and the log as the library reads it.
"""

import json
import os
import sys
from pathlib import Path
from uuid import UUID

dbname, host, port, schema, dog_id, trick = sys.argv[1:]
os.environ.update(
    PERSISTENCE_MODULE="eventsourcing.postgres",
    POSTGRES_DBNAME=dbname,
    POSTGRES_HOST=host,
    POSTGRES_PORT=port,
    POSTGRES_USER="postgres",
    POSTGRES_PASSWORD="",
    POSTGRES_SCHEMA=schema,
)
sys.path.insert(0, str(Path(__file__).resolve().parent))

from dogschool import DogSchool  # noqa: E402


def read_dog(app: DogSchool) -> dict:
    dog = app.repository.get(UUID(dog_id))
    return {"name": dog.name, "tricks": list(dog.tricks), "version": dog.version}


app = DogSchool()
before = read_dog(app)
app.add_trick(UUID(dog_id), trick)
out = {
    "before": before,
    "after": read_dog(app),
    "log": [[n.id, n.originator_id.hex, n.originator_version, n.topic] for n in app.recorder.select_notifications(1, 100)],
}
print(json.dumps(out))

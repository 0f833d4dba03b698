"""Reads dogs from an SQLite file with the Python eventsourcing library's DogSchool
(dogschool.py, next to this script), to check it reads what tributary wrote.

    python read_dogs.py SQLITE_FILE ID [ID ...]

Codecs come from the environment, passed through as the library reads them:
COMPRESSOR_TOPIC=eventsourcing.compressor:ZlibCompressor,
CIPHER_TOPIC=eventsourcing.cryptography:AESCipher and CIPHER_KEY=<base64>.
Prints one JSON object {id: {"name", "tricks", "version"}}, ids as given. A dog the
library cannot read exits non-zero with the Python error on stderr.
"""

import json
import os
import sys
from pathlib import Path
from uuid import UUID

path, *dog_ids = sys.argv[1:]
os.environ["PERSISTENCE_MODULE"] = "eventsourcing.sqlite"
os.environ["SQLITE_DBNAME"] = path
sys.path.insert(0, str(Path(__file__).resolve().parent))

from dogschool import DogSchool  # noqa: E402


def read_dog(app: DogSchool, dog_id: str) -> dict:
    dog = app.repository.get(UUID(dog_id))
    return {"name": dog.name, "tricks": list(dog.tricks), "version": dog.version}


app = DogSchool()
print(json.dumps({dog_id: read_dog(app, dog_id) for dog_id in dog_ids}))

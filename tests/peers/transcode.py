"""Transcodes stored states back and forth with the Python eventsourcing library's
JSONTranscoder (with the transcodings its applications register), to check that
tributary writes state byte for byte as the library does.

    python transcode.py < lines of base64 state

Prints, per line, the base64 of what the library writes for what it read.
"""

import base64
import sys

from eventsourcing.persistence import DatetimeAsISO, DecimalAsStr, JSONTranscoder, UUIDAsHex

transcoder = JSONTranscoder()
for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO()):
    transcoder.register(transcoding)

for line in sys.stdin:
    state = base64.b64decode(line.strip())
    print(base64.b64encode(transcoder.encode(transcoder.decode(state))).decode())

"""The figure our users would otherwise get: the Python eventsourcing library
writing events as fast as it can, N devices (threads) each saving batches of
new events of its own aggregate, into SQLite or PostgreSQL as configured by the
usual environment (PERSISTENCE_MODULE, SQLITE_DBNAME or POSTGRES_*).

    python python_load.py LABEL DEVICES SECONDS MAX_EVENTS BATCH

Prints one line in the same shape as server/examples/load.rs, with the share
of the machine's CPU time its host took meanwhile (steal, from /proc/stat).
"""

import os
import sys
import threading
import time

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event


class Dog(Aggregate):
    @event("Registered")
    def __init__(self, name):
        self.name = name

    @event("TrickAdded")
    def add_trick(self, trick):
        pass


def machine_cpu():
    """The machine's CPU time so far by kind (the first line of /proc/stat; steal is the 8th)."""
    try:
        with open("/proc/stat") as stat:
            return [int(n) for n in stat.readline().split()[1:]]
    except OSError:
        return []


def postgres_cpu():
    """CPU seconds used so far by each PostgreSQL process on the machine, by pid."""
    found = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as stat:
                text = stat.read()
        except OSError:
            continue
        if "(postgres)" in text:
            fields = text.rsplit(")", 1)[1].split()
            found[pid] = (int(fields[11]) + int(fields[12])) / 100
    return found


def machine_shares(before, measured):
    """What its host took (steal) and what processes other than the measured
    ones used (their CPU seconds), as shares of the machine's CPU time since `before`."""
    spent = [now - then for now, then in zip(machine_cpu(), before)]
    if len(spent) < 8:
        return float("nan"), float("nan")
    total = max(1, sum(spent))
    busy = spent[0] + spent[1] + spent[2] + spent[5] + spent[6]
    return 100 * spent[7] / total, max(0.0, 100 * (busy - 100 * measured) / total)


def main():
    label, devices, seconds, max_events, batch = sys.argv[1], *map(int, sys.argv[2:6])
    app = Application()
    lock = threading.Lock()
    accepted, latencies = [0], []
    deadline = time.perf_counter() + seconds

    def device():
        dog = Dog("Fido")
        app.save(dog)
        while time.perf_counter() < deadline and accepted[0] < max_events:
            for i in range(batch):
                dog.add_trick(f"trick {i}")
            sent = time.perf_counter()
            app.save(dog)
            with lock:
                latencies.append((time.perf_counter() - sent) * 1000)
                accepted[0] += batch

    started, machine_before, postgres_before, own_before = time.perf_counter(), machine_cpu(), postgres_cpu(), time.process_time()
    threads = [threading.Thread(target=device) for _ in range(devices)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    postgres = sum(now - postgres_before.get(pid, 0) for pid, now in postgres_cpu().items())
    host, others = machine_shares(machine_before, time.process_time() - own_before + postgres)
    latencies.sort()
    pick = lambda p: latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))] if latencies else float("nan")
    print(f"{label:<28} {accepted[0]:>8} events  {accepted[0] / elapsed:>7.0f} ev/s  "
          f"save p50 {pick(50):.1f} ms p99 {pick(99):.1f} ms  (in process, no HTTP); host took {host:.0f}%, other processes {others:.0f}%")


main()

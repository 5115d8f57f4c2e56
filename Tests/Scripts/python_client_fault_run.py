#!/usr/bin/env python3
"""Sends N messages through the Python reference client (clients/python, imported from the source tree)
while the test breaks things: test support for Tests/DaemonTests/ClientFaultTests.swift.

    python_client_fault_run.py --base-url http://127.0.0.1:PORT --chat CHAT --count N --rate R --prefix P [--window W]

One Client sends to ws://HOST:PORT/send-message/chat/CHAT; message i (0-based) is sender P, text "P-i",
tag "fault", queued with send_nowait at about R a second (a full window holds the pace back; the schedule
then catches up). The same protocol as js_client_fault_run.py, so the test runs both:
  stdout  one JSON object a line: about every 200 ms
            {"sent","acked","failed","inFlight","connections","resent","nacks"}
          and once every message has its outcome and close() returned, the same fields plus
            "done": true, "closes": {"1001": n, …}, "errors": {"ErrorClass: message": n}, "seconds"
  stderr  diagnostics
  stdin   its end aborts the run
Exit status 0 when every message was acked, else 1.
"""
import argparse
import asyncio
import json
import os
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

# The client under test, from the source tree (not an installed copy), leaving no bytecode in it.
sys.dont_write_bytecode = True
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "clients" / "python" / "src"))
from kafka_chat_producer_client import Ack, Client  # noqa: E402

STARTED = time.monotonic()


def log(text):
    print("%8.3f %s" % (time.monotonic() - STARTED, text), file=sys.stderr, flush=True)


class Run:
    def __init__(self, count):
        self.count = count
        self.sent = 0
        self.acked = 0
        self.failed = 0
        self.errors = Counter()
        self.settled = asyncio.Event()

    def outcome(self, result):
        if isinstance(result, Ack):
            self.acked += 1
        else:
            self.failed += 1
            text = str(result)
            message_id = getattr(result, "message_id", None)
            if message_id:
                text = text.replace(message_id, "<id>")  # one count per kind of error, not per message
            self.errors["%s: %s" % (type(result).__name__, text)] += 1
            if self.failed <= 5:
                log("failed: %s: %s" % (type(result).__name__, result))
        if self.acked + self.failed >= self.count:
            self.settled.set()

    def report(self, client):
        stats = client.stats
        return {
            "sent": self.sent,
            "acked": self.acked,
            "failed": self.failed,
            "inFlight": self.sent - self.acked - self.failed,
            "connections": stats["connections"],
            "resent": stats["resent"],
            "nacks": stats["nacks"],
        }


def emit(obj):
    print(json.dumps(obj, separators=(",", ":")), flush=True)


async def send_all(client, run, args):
    start = time.monotonic()
    for i in range(args.count):
        delay = start + i / args.rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        try:
            await client.send_nowait(args.prefix, "%s-%d" % (args.prefix, i), "fault", callback=run.outcome)
        except Exception as error:  # the client gave up for good (a refused handshake): counted, not raised
            run.outcome(error)
        run.sent += 1


async def report_progress(client, run):
    while True:
        emit(run.report(client))
        await asyncio.sleep(0.2)


async def stdin_closed():
    """Returns at stdin's end. A daemon thread reads it (a pipe, a file or a terminal alike), from the file
    descriptor: a thread blocked in the buffered reader would make the interpreter's shutdown abort."""
    loop = asyncio.get_running_loop()
    ended = asyncio.Event()

    def read():
        while os.read(sys.stdin.fileno(), 4096):
            pass
        loop.call_soon_threadsafe(ended.set)

    threading.Thread(target=read, daemon=True).start()
    await ended.wait()


async def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", required=True, help="http://HOST:PORT of the daemon (or a proxy in front)")
    parser.add_argument("--chat", required=True)
    parser.add_argument("--count", type=int, required=True, help="messages to send")
    parser.add_argument("--rate", type=float, required=True, help="messages a second")
    parser.add_argument("--prefix", required=True, help="the sender, and the texts' prefix")
    parser.add_argument("--window", type=int, help="the client's in-flight window (its default if not given)")
    args = parser.parse_args()

    base = urlsplit(args.base_url)
    url = "%s://%s/send-message/chat/%s" % ("wss" if base.scheme == "https" else "ws", base.netloc, args.chat)
    options = {} if args.window is None else {"window": args.window}
    client = Client(url, **options)
    run = Run(args.count)
    if args.count == 0:
        run.settled.set()
    progress = asyncio.create_task(report_progress(client, run))
    sender = asyncio.create_task(send_all(client, run, args))
    aborted = asyncio.create_task(stdin_closed())
    settled = asyncio.create_task(run.settled.wait())
    await asyncio.wait([settled, aborted], return_when=asyncio.FIRST_COMPLETED)
    if aborted.done():
        log("stdin closed: aborting")
        sender.cancel()
    await client.close(timeout=0 if aborted.done() else 10)
    await asyncio.sleep(0)  # the outcome callbacks of what close() failed
    progress.cancel()
    final = run.report(client)
    final.update(
        done=True,
        closes={str(code) if code is not None else "none": n for code, n in client.stats["closes"].items()},
        errors=dict(run.errors),
        seconds=round(time.monotonic() - STARTED, 3),
    )
    emit(final)
    return 0 if run.acked == args.count else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

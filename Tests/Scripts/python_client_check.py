#!/usr/bin/env python3
"""Tests the Python client (clients/python, imported from the source tree) against a running daemon.

It sends --count messages to one chat with a window of 8: half with `send` (all awaited together), half
with `send_nowait`. Then it checks: every message acked once with a distinct id of the client's prefix,
the window never exceeded, one connection and one call of the token function; a message with a number
as text ends as MessageRejected; flush and close return and a send after close fails with ClientClosed;
a message over the daemon's 64 KiB limit (close 1009) ends as ConnectionFailed, and so does the next send
on that client.

Prints ONE JSON line: {"ok": true, "texts": [...], "acks": N, ...} or {"ok": false, "error": ...} with
exit code 1. The caller checks that the texts are in Kafka.
"""
import argparse
import asyncio
import json
import os
import sys

sys.dont_write_bytecode = True  # nothing written into the source tree
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "clients", "python", "src"))

from kafka_chat_producer_client import (  # noqa: E402
    Client,
    ClientClosed,
    ConnectionFailed,
    MessageRejected,
)


class Failure(Exception):
    pass


def expect(condition, what):
    if not condition:
        raise Failure(what)


async def check(url, count):
    out = {"texts": []}
    token_calls = 0

    def token():
        nonlocal token_calls
        token_calls += 1
        return None

    client = Client(url, window=8, token=token)
    max_in_flight = 0
    stop = asyncio.Event()

    async def watch():
        nonlocal max_in_flight
        while not stop.is_set():
            max_in_flight = max(max_in_flight, len(client._pending))
            await asyncio.sleep(0.0005)

    watcher = asyncio.create_task(watch())
    outcomes = []
    sends = []
    for i in range(count // 2):
        out["texts"].append(f"send-{i}")
        sends.append(asyncio.create_task(client.send("py-client-test", f"send-{i}", "unit")))
    for i in range(count - count // 2):
        out["texts"].append(f"nowait-{i}")
        await client.send_nowait("py-client-test", f"nowait-{i}", "unit", callback=outcomes.append)
    acks = list(await asyncio.gather(*sends))
    await client.flush(timeout=20)
    acks += outcomes
    expect(all(hasattr(a, "offset") for a in acks), f"not all acked: {[a for a in acks if not hasattr(a, 'offset')][:3]}")
    ids = {a.id for a in acks}
    expect(len(ids) == count, f"{len(ids)} distinct ids for {count} messages")
    expect(len({i.rsplit('-', 1)[0] for i in ids}) == 1, "ids do not share one prefix")
    out["acks"] = len(acks)

    try:
        await client.send("py-client-test", 5, "unit")
        raise Failure("a number as text was acked")
    except MessageRejected as rejected:
        expect(rejected.reason == "wrong_type", f"rejected for {rejected.reason}")

    stop.set()
    await watcher
    expect(max_in_flight <= 8, f"{max_in_flight} messages in flight with a window of 8")
    out["maxInFlight"] = max_in_flight
    await client.close(timeout=10)
    expect(client.stats["connections"] == 1 and token_calls == 1, f"stats {client.stats}, token calls {token_calls}")
    try:
        await client.send("py-client-test", "after close", "unit")
        raise Failure("a send after close did not fail")
    except ClientClosed:
        pass

    big = Client(url)
    try:
        await big.send("py-client-test", "x" * 70_000, "unit")
        raise Failure("a 70 kB message was acked")
    except ConnectionFailed as failed:
        expect(failed.code == 1009, f"closed with {failed.code}")
    try:
        await big.send("py-client-test", "after 1009", "unit")
        raise Failure("a send after a 1009 close did not fail")
    except ConnectionFailed:
        pass
    await big.close(timeout=5)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="ws://127.0.0.1:PORT/send-message/chat/CHAT")
    parser.add_argument("--count", type=int, default=50)
    args = parser.parse_args()
    try:
        result = asyncio.run(asyncio.wait_for(check(args.url, args.count), 60))
        result["ok"] = True
    except Exception as error:  # one JSON line whatever happened
        result = {"ok": False, "error": f"{type(error).__name__}: {error}"}
    print(json.dumps(result))
    sys.exit(0 if result["ok"] else 1)


if __name__ == "__main__":
    main()

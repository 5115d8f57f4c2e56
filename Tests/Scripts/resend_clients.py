#!/usr/bin/env python3
"""Chat clients that lose nothing across daemon restarts: test support for the rolling-restart test
(Tests/DaemonTests/RollingRestartTests.swift). Not a reference client.

Each of --clients clients connects to --url (wss://, through the proxy) with ?ack=1, sends numbered
messages at --rate a second with at most --window unacknowledged, and keeps every message until its ack
arrives. When the connection ends (the daemon's close 1001 while it drains, a reset, anything) the
client reconnects after a short backoff and first resends everything still unacknowledged, oldest
first; a nack puts the message back in line. A resend of a message whose ack was lost is a duplicate
in Kafka: allowed (at-least-once), and counted by the test.

Message n of client c is {"id":"cC-N","sender":"cC","text":"cC-N","tag":"rolling"}: the ack echoes the
id, and the Kafka record (sender, text, tag) carries it in "text".

Control: a line "stop" on stdin (or stdin's end) stops new messages; each client then waits until its
last message is acked (reconnecting as needed, at most --finish-seconds) and closes with 1000.
Output, on stdout, one JSON object a line:
  {"event":"progress",…}   every 100 ms: sent, acked, pending, open connections, closes by code, failures
  {"event":"summary",…}    at the end: the same counts, messages per client, and any unacked ids
Events worth reading in a failure (handshake refusals, closes) go to stderr with a timestamp.
Exit code 0 once the summary is printed, whatever it says; the test judges it.
"""
import argparse
import asyncio
import json
import os
import ssl
import sys
import time
from collections import Counter

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

STARTED = time.monotonic()


def log(text):
    print("%8.3f %s" % (time.monotonic() - STARTED, text), file=sys.stderr, flush=True)


class Totals:
    def __init__(self):
        self.connects = 0  # handshakes answered 101
        self.open = 0  # connections open now
        self.resent = 0  # frames sent again after a reconnect or a nack
        self.acks = 0  # ack frames, duplicates included
        self.duplicate_acks = 0  # acks for an id already acked (a resend whose first ack had arrived)
        self.nacks = Counter()  # by error code
        self.errors = Counter()  # error frames (the message broke the contract: never expected here)
        self.closes = Counter()  # close code received from the server ("none": ended without a close frame)
        self.handshake_failures = Counter()  # HTTP status of a refused handshake (502, 503, 504, …)
        self.connect_errors = Counter()  # the proxy refused or reset the TCP/TLS connection, or timed out


class Client:
    def __init__(self, index, args, totals, context, stopping):
        self.index = index
        self.args = args
        self.totals = totals
        self.context = context
        self.stopping = stopping
        self.name = "c%d" % index
        self.generated = 0
        self.pending = {}  # id -> frame, in the order first sent (dicts keep insertion order)
        self.acked = set()
        self.retry = []  # nacked ids, to send again on this connection
        self.room = asyncio.Event()  # set by the receiver on every ack, nack and at the connection's end
        self.next_due = time.monotonic()

    def frame(self, number):
        message_id = "%s-%d" % (self.name, number)
        return message_id, json.dumps(
            {"id": message_id, "sender": self.name, "text": message_id, "tag": "rolling"}, separators=(",", ":")
        )

    async def run(self):
        backoff = 0.02
        deadline = None
        while True:
            if self.stopping.is_set():
                if not self.pending:
                    return
                if deadline is None:
                    deadline = time.monotonic() + self.args.finish_seconds
                if time.monotonic() > deadline:
                    log("%s: gave up with %d unacked" % (self.name, len(self.pending)))
                    return
            try:
                ws = await connect(
                    self.args.url,
                    ssl=self.context,
                    server_hostname=self.args.server_name,
                    proxy=None,
                    compression=None,
                    open_timeout=10,
                    ping_interval=None,
                    close_timeout=5,
                    max_queue=None,
                )
            except InvalidStatus as error:
                status = error.response.status_code
                self.totals.handshake_failures[str(status)] += 1
                log("%s: handshake refused: %d %s" % (self.name, status, (error.response.body or b"")[:200]))
            except (OSError, InvalidHandshake, asyncio.TimeoutError, EOFError) as error:
                self.totals.connect_errors[type(error).__name__] += 1
                log("%s: connect failed: %s: %s" % (self.name, type(error).__name__, error))
            else:
                backoff = 0.02
                self.totals.connects += 1
                self.totals.open += 1
                try:
                    await self.session(ws)
                finally:
                    self.totals.open -= 1
                continue
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 0.5)

    async def session(self, ws):
        receiver = asyncio.create_task(self.receive(ws))
        try:
            # Everything the last connection left unacknowledged goes first, oldest first.
            self.retry.clear()
            for frame in list(self.pending.values()):
                await ws.send(frame)
                self.totals.resent += 1
            while not receiver.done():
                if self.retry:
                    frame = self.pending.get(self.retry.pop(0))
                    if frame is not None:
                        await ws.send(frame)
                        self.totals.resent += 1
                    continue
                if self.stopping.is_set():
                    if not self.pending:
                        await ws.close(1000)
                        break
                    await self.wait_for_room(0.05)
                    continue
                if len(self.pending) >= self.args.window:
                    await self.wait_for_room(0.05)
                    continue
                now = time.monotonic()
                if now < self.next_due:
                    await asyncio.sleep(min(self.next_due - now, 0.05))
                    continue
                # Paced, without a burst to catch up on time spent reconnecting.
                self.next_due = max(self.next_due + 1 / self.args.rate, now - 0.05)
                message_id, frame = self.frame(self.generated)
                self.generated += 1
                self.pending[message_id] = frame
                await ws.send(frame)
        except ConnectionClosed:
            pass
        await receiver

    async def wait_for_room(self, seconds):
        self.room.clear()
        try:
            await asyncio.wait_for(self.room.wait(), seconds)
        except asyncio.TimeoutError:
            pass

    async def receive(self, ws):
        try:
            async for text in ws:
                reply = json.loads(text)
                if "ack" in reply:
                    self.totals.acks += 1
                    message_id = reply["ack"]
                    if self.pending.pop(message_id, None) is None:
                        self.totals.duplicate_acks += 1
                    self.acked.add(message_id)
                    self.room.set()
                elif "nack" in reply:
                    self.totals.nacks[reply.get("error", {}).get("code", "?")] += 1
                    self.retry.append(reply["nack"])
                    self.room.set()
                elif "error" in reply:
                    self.totals.errors[reply["error"].get("code", "?")] += 1
                    log("%s: error reply %s" % (self.name, text))
        except ConnectionClosed:
            pass
        self.room.set()
        received = ws.protocol.close_rcvd
        code = str(received.code) if received is not None else "none"
        self.totals.closes[code] += 1
        if code != "1000":
            log(
                "%s: closed by the server: %s %s (%d unacked, resent on the next connection)"
                % (self.name, code, received.reason if received is not None else "", len(self.pending))
            )


def report(event, totals, clients, extra=None):
    line = {
        "event": event,
        "generated": sum(client.generated for client in clients),
        "acked": sum(len(client.acked) for client in clients),
        "pending": sum(len(client.pending) for client in clients),
        "open": totals.open,
        "connects": totals.connects,
        "resent": totals.resent,
        "acks": totals.acks,
        "duplicateAcks": totals.duplicate_acks,
        "nacks": dict(totals.nacks),
        "errors": dict(totals.errors),
        "closes": dict(totals.closes),
        "handshakeFailures": dict(totals.handshake_failures),
        "connectErrors": dict(totals.connect_errors),
    }
    line.update(extra or {})
    print(json.dumps(line, separators=(",", ":")), flush=True)


async def watch_stdin(stopping):
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if line == "" or line.strip() == "stop":
            log("stop: no new messages; waiting for the last acks")
            stopping.set()
            return


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True, help="wss://127.0.0.1:PORT/send-message/chat/NAME?ack=1")
    parser.add_argument("--cafile", required=True)
    parser.add_argument("--server-name", default="localhost", help="SNI and the name the certificate carries")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--rate", type=float, default=100, help="new messages a second, per client")
    parser.add_argument("--window", type=int, default=200, help="unacknowledged messages at most, per client")
    parser.add_argument("--finish-seconds", type=float, default=30)
    parser.add_argument("--max-seconds", type=float, default=170, help="stop by itself after this long")
    args = parser.parse_args()

    context = ssl.create_default_context(cafile=args.cafile)
    stopping = asyncio.Event()
    totals = Totals()
    clients = [Client(index, args, totals, context, stopping) for index in range(args.clients)]
    tasks = [asyncio.create_task(client.run()) for client in clients]
    stdin = asyncio.create_task(watch_stdin(stopping))
    all_done = asyncio.gather(*tasks)
    limit = time.monotonic() + args.max_seconds
    while not all_done.done():
        await asyncio.wait([all_done], timeout=0.1)
        report("progress", totals, clients)
        if time.monotonic() > limit and not stopping.is_set():
            log("--max-seconds passed without a stop")
            stopping.set()
    await all_done
    stdin.cancel()
    unacked = [message_id for client in clients for message_id in client.pending]
    report(
        "summary",
        totals,
        clients,
        {"perClient": [client.generated for client in clients], "unacked": unacked[:20]},
    )


if __name__ == "__main__":
    asyncio.run(main())
    # The stdin reader thread may still block in readline(): leave without waiting for it.
    sys.stdout.flush()
    os._exit(0)

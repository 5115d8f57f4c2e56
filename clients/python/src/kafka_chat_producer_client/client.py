"""An at-least-once client for kafka-chat-producer's WebSocket endpoints.

Every message gets an id and stays in a bounded in-flight window until the daemon acks it (``?ack=1``:
the brokers stored it). What is not acked when a connection ends is sent again on the next one; a
retriable nack is sent again; anything else ends as an exception the caller sees. The rules behind it are
in docs/clients.md.
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
import json
import random
import uuid
from dataclasses import dataclass, field
from typing import Awaitable, Callable, Optional, Union
from urllib.parse import urlsplit, urlunsplit, parse_qsl, urlencode

import websockets
from websockets.exceptions import ConnectionClosed, InvalidStatus

TokenSource = Union[None, str, Callable[[], Union[str, Awaitable[str]]]]
Outcome = Union["Ack", BaseException]


@dataclass(frozen=True)
class Ack:
    """Where Kafka stored the message."""

    id: str
    partition: int
    offset: int


class DeliveryFailed(Exception):
    """The daemon reported the message as not delivered and resending cannot help (or was given up)."""

    def __init__(self, message_id: str, code: str, message: str, retriable: bool = False):
        super().__init__(f"{message_id}: {code}: {message}")
        self.message_id = message_id
        self.code = code
        self.retriable = retriable


class MessageRejected(Exception):
    """The daemon refused the message itself (not JSON it accepts); sending it again would fail again."""

    def __init__(self, message_id: str, reason: str, message: str):
        super().__init__(f"{message_id}: {reason}: {message}")
        self.message_id = message_id
        self.reason = reason


class ClientClosed(Exception):
    """The client was closed (or could not connect for good) before the message was acked."""


class ConnectionFailed(Exception):
    """The daemon closed the connection in a way a new one would not change: this client broke the
    protocol (1002, 1003, 1007, 1009 message too big) or a reload took the chat away (1008 "this chat is
    no longer allowed…"). The client is finished; the messages waiting fail with this error."""

    def __init__(self, code: int, reason: str):
        super().__init__(f"connection closed with {code}" + (f" ({reason})" if reason else ""))
        self.code = code
        self.reason = reason


# Close codes after which the same connection would fail again: protocol errors of this client.
_FATAL_CLOSES = {1002, 1003, 1007, 1009}
# 1008 reasons that take the chat away for good; the other 1008s (token expired or withdrawn, rate limit)
# are worth a new connection.
_FATAL_POLICY_REASONS = ("this chat is no longer allowed", "this token may no longer write to this chat")


class HandshakeRefused(Exception):
    """The daemon answered the WebSocket handshake with a status that retrying cannot change (401, 403, 404, 400)."""

    def __init__(self, status: int, body: str):
        super().__init__(f"handshake refused with {status}: {body[:200]}")
        self.status = status


@dataclass
class _Pending:
    id: str
    frame: str
    future: asyncio.Future
    attempts: int = 0
    sent_on: int = -1  # the connection number it was last written on
    callback: Optional[Callable[[Outcome], None]] = field(default=None, repr=False)


class Client:
    """Sends chat messages to one endpoint (``ws://host:8000/send-message/chat/room-1`` or ``…/global``).

    ``token`` may be a string or a function (sync or async) returning one: it is called for every connection,
    so a client whose JWT expired (close 1008) reconnects with a fresh one.
    """

    def __init__(
        self,
        url: str,
        *,
        token: TokenSource = None,
        window: int = 256,
        max_attempts: int = 10,
        initial_backoff: float = 0.1,
        max_backoff: float = 10.0,
        open_timeout: float = 10.0,
    ):
        if window < 1:
            raise ValueError("window must be at least 1")
        self._url = self._with_acks(url)
        self._token = token
        self._window = asyncio.Semaphore(window)
        self._max_attempts = max_attempts
        self._initial_backoff = initial_backoff
        self._max_backoff = max_backoff
        self._open_timeout = open_timeout
        self._prefix = uuid.uuid4().hex[:12]
        self._numbers = itertools.count(1)
        self._pending: dict[str, _Pending] = {}
        self._idle = asyncio.Event()
        self._idle.set()
        self._ws: Optional[websockets.ClientConnection] = None
        self._connection_number = 0
        self._connected = asyncio.Event()
        self._closing = False
        self._task: Optional[asyncio.Task] = None
        self._fatal: Optional[BaseException] = None
        # The last close code and reason, for the error of a message that exhausted its attempts (a
        # message the daemon closes the connection over, 1009 too big, would otherwise fail unexplained).
        self._last_close: Optional[str] = None
        #: Counters a test or a dashboard can read: connections opened, frames resent, nacks seen.
        self.stats = {"connections": 0, "resent": 0, "nacks": 0, "closes": {}}

    # ---- lifecycle ---------------------------------------------------------------------------

    async def __aenter__(self) -> "Client":
        await self.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    async def start(self) -> None:
        """Starts connecting in the background; sends wait for the connection."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="kafka-chat-producer-client")

    async def flush(self, timeout: Optional[float] = None) -> None:
        """Waits until every message sent so far has its outcome (acked or failed)."""
        await asyncio.wait_for(self._idle.wait(), timeout)

    async def close(self, timeout: Optional[float] = None) -> None:
        """Waits for outstanding acks (at most ``timeout``), then closes; what is still open fails with ClientClosed."""
        try:
            if self._fatal is None:
                await self.flush(timeout)
        except asyncio.TimeoutError:
            pass
        finally:
            self._closing = True
            if self._ws is not None:
                await self._ws.close()
            if self._task is not None:
                self._task.cancel()
                try:
                    await self._task
                except (asyncio.CancelledError, Exception):
                    pass
            self._fail_all(self._fatal or ClientClosed("client closed before the ack"))

    # ---- sending -----------------------------------------------------------------------------

    async def send(self, sender: str, text: str, tag: str) -> Ack:
        """Sends one message and returns its ack once Kafka stored it; raises when it cannot be delivered."""
        pending = await self._enqueue(sender, text, tag, None)
        return await pending.future

    async def send_nowait(
        self, sender: str, text: str, tag: str, callback: Callable[[Outcome], None]
    ) -> str:
        """Queues one message (waiting only for room in the window) and returns its id; ``callback`` gets
        the Ack or the exception."""
        pending = await self._enqueue(sender, text, tag, callback)
        return pending.id

    async def _enqueue(self, sender: str, text: str, tag: str, callback) -> _Pending:
        if self._closing:
            raise ClientClosed("client is closed")
        if self._fatal is not None:
            raise self._fatal
        await self.start()
        await self._window.acquire()
        message_id = f"{self._prefix}-{next(self._numbers)}"
        frame = json.dumps(
            {"sender": sender, "text": text, "tag": tag, "id": message_id}, ensure_ascii=False, separators=(",", ":")
        )
        future = asyncio.get_running_loop().create_future()
        pending = _Pending(id=message_id, frame=frame, future=future, callback=callback)
        future.add_done_callback(lambda f, p=pending: self._finished(p, f))
        self._pending[message_id] = pending
        self._idle.clear()
        await self._write(pending)
        return pending

    async def _write(self, pending: _Pending) -> None:
        ws = self._ws
        if ws is None or pending.future.done():
            return  # sent when the next connection opens
        pending.attempts += 1
        pending.sent_on = self._connection_number
        try:
            await ws.send(pending.frame)
        except ConnectionClosed:
            pass  # the connection loop resends it

    def _finished(self, pending: _Pending, future: asyncio.Future) -> None:
        self._pending.pop(pending.id, None)
        self._window.release()
        if not self._pending:
            self._idle.set()
        if future.cancelled():
            outcome: Outcome = ClientClosed("cancelled")
        elif future.exception() is not None:  # also marks it retrieved when no send() awaits it any more
            outcome = future.exception()
        else:
            outcome = future.result()
        if pending.callback is not None:
            pending.callback(outcome)

    def _settle(self, message_id: str, outcome: Outcome) -> None:
        pending = self._pending.get(message_id)
        if pending is None or pending.future.done():
            return  # an ack of a resend whose first attempt was acked already
        if isinstance(outcome, BaseException):
            pending.future.set_exception(outcome)
        else:
            pending.future.set_result(outcome)

    def _fail_all(self, error: BaseException) -> None:
        for pending in list(self._pending.values()):
            if not pending.future.done():
                pending.future.set_exception(error)

    # ---- the connection ----------------------------------------------------------------------

    async def _run(self) -> None:
        failures = 0  # connection attempts in a row that got nowhere
        while not self._closing:
            close: Optional[int] = None
            reason = ""
            retry_after: Optional[str] = None
            try:
                headers = {}
                token = await self._current_token()
                if token:
                    headers["Authorization"] = f"Bearer {token}"
                async with websockets.connect(
                    self._url, additional_headers=headers, open_timeout=self._open_timeout, max_size=None
                ) as ws:
                    failures = 0
                    self._ws = ws
                    self._connection_number += 1
                    self.stats["connections"] += 1
                    await self._resend_unacked()
                    close = await self._read(ws)
                    reason = ws.close_reason or ""
                    self._last_close = f"{close} {reason}".strip()
                    self.stats["closes"][close] = self.stats["closes"].get(close, 0) + 1
            except InvalidStatus as refused:
                status = refused.response.status_code
                body = refused.response.body.decode("utf-8", "replace") if refused.response.body else ""
                if status == 401 and callable(self._token) and failures == 0:
                    pass  # a fresh token may help, once
                elif status not in (408, 429, 500, 502, 503, 504):
                    self._ws = None
                    self._fatal = HandshakeRefused(status, body)
                    self._fail_all(self._fatal)
                    return
                retry_after = refused.response.headers.get("Retry-After")
                failures += 1
            except (OSError, asyncio.TimeoutError, ConnectionClosed, websockets.InvalidHandshake):
                failures += 1
            self._ws = None
            if self._closing:
                return
            if close in _FATAL_CLOSES or (close == 1008 and reason.startswith(_FATAL_POLICY_REASONS)):
                self._fatal = ConnectionFailed(close, reason)
                self._fail_all(self._fatal)
                return
            if close in (1008, 1013):  # policy (rate limit, expired token) or overloaded: not at once
                failures += 1
            await self._pause(failures, retry_after)

    async def _current_token(self) -> Optional[str]:
        token = self._token
        if callable(token):
            token = token()
            if inspect.isawaitable(token):
                token = await token
        return token

    async def _pause(self, failures: int, retry_after: Optional[str]) -> None:
        """Before the next connection: what 503's Retry-After asks for, else exponential backoff with full
        jitter (many clients cut off at once, by a drain's 1001, do not come back in step); a first reconnect
        after a close waits at most ``initial_backoff``."""
        if retry_after is not None:
            try:
                await asyncio.sleep(float(retry_after) + random.uniform(0, 1))
                return
            except ValueError:
                pass
        ceiling = min(self._max_backoff, self._initial_backoff * (2 ** min(failures, 16)))
        await asyncio.sleep(random.uniform(0, ceiling))

    async def _resend_unacked(self) -> None:
        """Everything not acked goes out again, oldest first: a message written on the old connection may
        or may not have been stored (its ack was lost), so this is where duplicates can come from."""
        for pending in list(self._pending.values()):
            if pending.future.done():
                continue
            if pending.sent_on >= 0:
                self.stats["resent"] += 1
            if pending.attempts >= self._max_attempts:
                pending.future.set_exception(
                    DeliveryFailed(
                        pending.id,
                        "too_many_attempts",
                        f"sent {pending.attempts} times without an ack (last close: {self._last_close or 'none'})",
                    )
                )
                continue
            await self._write(pending)

    async def _read(self, ws) -> Optional[int]:
        try:
            async for frame in ws:
                self._handle(frame)
        except ConnectionClosed:
            pass
        return ws.close_code

    def _handle(self, frame) -> None:
        try:
            reply = json.loads(frame)
        except ValueError:
            return
        if "ack" in reply:
            message_id = str(reply["ack"])
            self._settle(message_id, Ack(message_id, int(reply.get("partition", -1)), int(reply.get("offset", -1))))
        elif "nack" in reply:
            self.stats["nacks"] += 1
            message_id = str(reply["nack"])
            error = reply.get("error") or {}
            pending = self._pending.get(message_id)
            if reply.get("retriable") and pending is not None and pending.attempts < self._max_attempts:
                asyncio.get_running_loop().create_task(self._write(pending))
            else:
                self._settle(
                    message_id,
                    DeliveryFailed(message_id, error.get("code", "unknown"), error.get("message", ""), bool(reply.get("retriable"))),
                )
        elif "error" in reply and "id" in reply:
            error = reply["error"]
            message_id = str(reply["id"])
            self._settle(message_id, MessageRejected(message_id, error.get("reason", error.get("code", "")), error.get("message", "")))

    @staticmethod
    def _with_acks(url: str) -> str:
        parts = urlsplit(url)
        query = [(k, v) for k, v in parse_qsl(parts.query) if k != "ack"] + [("ack", "1")]
        return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))

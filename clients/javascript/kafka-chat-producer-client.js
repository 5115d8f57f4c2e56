// An at-least-once client for kafka-chat-producer's WebSocket endpoints, as one dependency-free ES module
// for browsers and Node ≥ 22 (anything with a WHATWG `WebSocket`). It follows docs/clients.md and the
// Python reference client (clients/python): every message gets an id and stays in a bounded in-flight
// window until the daemon acks it (`?ack=1`: the brokers stored it). What is not acked when a connection
// ends is sent again on the next one, a retriable nack is sent again, and everything else ends as an
// Error the caller sees.
//
// What the WebSocket API hides: a refused handshake (401, 403, 404, 429, 503 …) and a daemon that is not
// there look the same — an `error` event and close code 1006, no status, no body, no Retry-After. So a
// connection that never opened counts as a retriable failure with exponential backoff; after
// `maxOpenFailures` of them in a row (default 10, roughly half a minute with the default backoff) the
// messages waiting fail with ConnectionFailed and the client stops trying until the next send. To tell
// why a handshake failed, `fetch` the same path without upgrading (the /docs console does): 426 means
// the path is fine and the refusal was for the token, the origin or a limit.

/** The daemon reported the message as not delivered and resending cannot help (or was given up). */
export class DeliveryFailed extends Error {
  constructor(messageId, code, message, retriable = false) {
    super(`${messageId}: ${code}: ${message}`);
    this.name = "DeliveryFailed";
    this.messageId = messageId;
    this.code = code;
    this.retriable = retriable;
  }
}

/** The daemon refused the message itself (not JSON it accepts): sending it again would fail again. */
export class MessageRejected extends Error {
  constructor(messageId, reason, message) {
    super(`${messageId}: ${reason}: ${message}`);
    this.name = "MessageRejected";
    this.messageId = messageId;
    this.reason = reason;
  }
}

/** The client was closed before the message was acked (it may still have been stored). */
export class ClientClosed extends Error {
  constructor(message) {
    super(message);
    this.name = "ClientClosed";
  }
}

/**
 * The connection ended in a way that retrying cannot change: a close code that says the client or its
 * chat is wrong (1002, 1003, 1007, 1009, 1008 "this chat is no longer allowed…"), or no connection could
 * be opened `maxOpenFailures` times in a row (`code` 1006; the browser does not say why).
 */
export class ConnectionFailed extends Error {
  constructor(code, reason, message) {
    super(message || `connection closed with ${code}${reason ? ` (${reason})` : ""}`);
    this.name = "ConnectionFailed";
    this.code = code;
    this.reason = reason;
  }
}

// Close codes after which the same connection would fail again: protocol errors of this client (a bad
// frame, bad UTF-8, a message over the daemon's size limit).
const FATAL_CLOSES = new Set([1002, 1003, 1007, 1009]);
// 1008 reasons that take the chat away for good (a reload changed the policy); the other 1008s (token
// expired or withdrawn, rate limit) are worth a new connection.
const FATAL_POLICY_REASONS = ["this chat is no longer allowed", "this token may no longer write to this chat"];
// A connection counts as having worked (backoff starts again from the bottom) once it got a reply, or
// stayed open this long; a daemon that accepts and drops at once is backed off from like one that refuses.
const WORKED_AFTER_MS = 2000;

/**
 * Sends chat messages to one endpoint (`ws://host:8000/send-message/chat/room-1` or `…/global`).
 *
 * `token` may be a string or a function (sync or async) returning one: it is called for every connection,
 * so a client whose JWT expired (close 1008) reconnects with a fresh one. It travels as the
 * `access_token` query parameter, the only way a browser can send one (docs/security.md).
 *
 * Events (it is an EventTarget; `event.detail` carries the fields): `open` {connection, url},
 * `close` {code, reason, opened, delay} with the pause before the next attempt in seconds.
 */
export class Client extends EventTarget {
  #url;
  #token;
  #maxAttempts;
  #initialBackoff;
  #maxBackoff;
  #openTimeout;
  #maxOpenFailures;
  #WebSocket;
  #prefix = randomPrefix();
  #counter = 0;
  /** id → entry, in the order sent: a Map iterates in insertion order, which is the resend order. */
  #pending = new Map();
  #free;
  #roomWaiters = [];
  #idleWaiters = [];
  #ws = null;
  #connectionNumber = 0;
  #closing = false;
  #fatal = null;
  #loop = null;
  #wake = null;
  #endConnection = null;

  /** Counters a test or a dashboard can read. `closes` counts the closes of connections that opened, by code. */
  stats = { connections: 0, resent: 0, nacks: 0, failedOpens: 0, closes: {} };

  constructor(
    url,
    {
      token = null,
      window = 256,
      maxAttempts = 10,
      initialBackoff = 0.1,
      maxBackoff = 10,
      openTimeout = 10,
      maxOpenFailures = 10,
      WebSocket: WebSocketClass = globalThis.WebSocket,
    } = {},
  ) {
    super();
    if (!(window >= 1)) throw new RangeError("window must be at least 1");
    if (typeof WebSocketClass !== "function") {
      throw new TypeError("no global WebSocket: use a browser or Node ≥ 22, or pass options.WebSocket");
    }
    this.#url = withAcks(url);
    this.#token = token;
    this.#free = Math.floor(window);
    this.#maxAttempts = maxAttempts;
    this.#initialBackoff = initialBackoff;
    this.#maxBackoff = maxBackoff;
    this.#openTimeout = openTimeout;
    this.#maxOpenFailures = maxOpenFailures;
    this.#WebSocket = WebSocketClass;
  }

  /** The endpoint with `ack=1` (the token is added per connection and never shown). */
  get url() {
    return this.#url;
  }

  /** Messages sent and not yet acked or failed. */
  get inFlight() {
    return this.#pending.size;
  }

  // ---- sending ------------------------------------------------------------------------------------

  /** Sends one message; resolves to `{id, partition, offset}` once Kafka stored it, rejects when it cannot be delivered. */
  async send(sender, text, tag) {
    const entry = await this.#enqueue(sender, text, tag, null);
    return entry.promise;
  }

  /**
   * Queues one message (waiting only for room in the window) and resolves to its id; `callback` gets the
   * ack or the Error later. Nothing is left unhandled: the callback is the only place the outcome goes.
   */
  async sendNoWait(sender, text, tag, callback) {
    if (typeof callback !== "function") throw new TypeError("sendNoWait needs a callback");
    const entry = await this.#enqueue(sender, text, tag, callback);
    return entry.id;
  }

  /** Resolves once every message sent so far has its outcome; with `timeout` (seconds) rejects with a TimeoutError. */
  flush(timeout) {
    if (this.#pending.size === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter = { resolve, reject: null, timer: null };
      if (timeout != null) {
        waiter.timer = setTimeout(() => {
          this.#idleWaiters = this.#idleWaiters.filter((w) => w !== waiter);
          reject(new DOMException(`flush: messages still in flight after ${timeout} s`, "TimeoutError"));
        }, timeout * 1000);
      }
      this.#idleWaiters.push(waiter);
    });
  }

  /**
   * Waits for outstanding acks (at most `timeout` seconds), then closes; what is still open fails with
   * ClientClosed (or the error that stopped the client).
   */
  async close(timeout) {
    if (!this.#closing && this.#fatal === null) {
      try {
        await this.flush(timeout);
      } catch (error) {
        if (error?.name !== "TimeoutError") throw error;
      }
    }
    this.#closing = true;
    this.#wake?.();
    this.#endConnection?.();
    await this.#loop;
    this.#failAll(this.#fatal ?? new ClientClosed("client closed before the ack"));
  }

  async #enqueue(sender, text, tag, callback) {
    this.#check();
    await this.#room();
    // Fields are not checked here: the daemon is the judge, and its error reply becomes MessageRejected.
    const id = `${this.#prefix}-${++this.#counter}`;
    const entry = { id, frame: JSON.stringify({ sender, text, tag, id }), attempts: 0, sentOn: -1, callback, done: false };
    if (!callback) entry.promise = new Promise((resolve, reject) => Object.assign(entry, { resolve, reject }));
    this.#pending.set(id, entry);
    this.#write(entry);
    this.#start();
    return entry;
  }

  #check() {
    if (this.#closing) throw new ClientClosed("client is closed");
    if (this.#fatal !== null) throw this.#fatal;
  }

  /** Takes one place in the window, waiting while it is full (that is the backpressure). */
  async #room() {
    if (this.#free > 0) {
      this.#free -= 1;
      return;
    }
    await new Promise((resolve, reject) => this.#roomWaiters.push({ resolve, reject }));
    try {
      this.#check();
    } catch (error) {
      this.#release();
      throw error;
    }
  }

  #release() {
    const next = this.#roomWaiters.shift();
    if (next) next.resolve();
    else this.#free += 1;
  }

  #write(entry) {
    const ws = this.#ws;
    if (ws === null || ws.readyState !== 1 || entry.done) return; // sent when the next connection opens
    entry.attempts += 1;
    entry.sentOn = this.#connectionNumber;
    try {
      ws.send(entry.frame);
    } catch {
      // the connection is ending: the next one resends it
    }
  }

  #settle(entry, outcome) {
    if (entry === undefined || entry.done) return; // an ack of a resend whose first attempt was acked already
    entry.done = true;
    this.#pending.delete(entry.id);
    this.#release();
    if (this.#pending.size === 0) {
      for (const waiter of this.#idleWaiters.splice(0)) {
        clearTimeout(waiter.timer);
        waiter.resolve();
      }
    }
    if (entry.callback) {
      try {
        entry.callback(outcome);
      } catch (error) {
        setTimeout(() => {
          throw error; // the caller's bug, reported as uncaught without breaking the client
        });
      }
    } else if (outcome instanceof Error) {
      entry.reject(outcome);
    } else {
      entry.resolve(outcome);
    }
  }

  #failAll(error) {
    for (const entry of [...this.#pending.values()]) this.#settle(entry, error);
    for (const waiter of this.#roomWaiters.splice(0)) waiter.reject(error);
  }

  // ---- the connection -----------------------------------------------------------------------------

  #start() {
    if (this.#loop === null) this.#loop = this.#run();
    this.#wake?.();
  }

  async #run() {
    let failures = 0; // attempts in a row that got nowhere: the backoff exponent
    let failedOpens = 0; // connections in a row that never opened
    while (!this.#closing && this.#fatal === null) {
      if (this.#pending.size === 0) {
        // Connect only with something to send: after an idle-timeout 1001, or after giving up, the next
        // send brings the connection back.
        await new Promise((resolve) => (this.#wake = resolve));
        this.#wake = null;
        continue;
      }
      const result = await this.#connectOnce();
      if (this.#closing) break;
      let delay;
      if (!result.opened) {
        this.stats.failedOpens += 1;
        failures += 1;
        failedOpens += 1;
        if (failedOpens >= this.#maxOpenFailures) {
          this.#emit("close", { code: result.code, reason: result.reason, opened: false, delay: null });
          this.#failAll(
            new ConnectionFailed(
              1006,
              result.reason,
              `could not open a connection ${failedOpens} times in a row (${result.reason || "the WebSocket API does not say why"}): ` +
                "the daemon is down or refused the handshake (token, origin, chat, limits)",
            ),
          );
          failures = 0;
          failedOpens = 0;
          continue;
        }
        delay = this.#backoff(failures);
      } else {
        failedOpens = 0;
        const { code, reason } = result;
        this.stats.closes[code] = (this.stats.closes[code] ?? 0) + 1;
        failures = result.worked ? 0 : failures + 1;
        if (FATAL_CLOSES.has(code) || (code === 1008 && FATAL_POLICY_REASONS.some((r) => reason.startsWith(r)))) {
          this.#fatal = new ConnectionFailed(code, reason);
          this.#failAll(this.#fatal);
          this.#emit("close", { code, reason, opened: true, delay: null });
          break;
        }
        // 1013 (overloaded), a rate-limit 1008 and anything unexpected back off further; 1000, 1001
        // (a drain: come back at once, jittered so a restart's clients do not return in step) and a
        // token 1008 (the next connection asks the token function again) do not.
        const soon = code === 1000 || code === 1001 || (code === 1008 && !reason.startsWith("rate limit"));
        if (!soon) failures += 1;
        delay = this.#backoff(failures);
      }
      this.#emit("close", { code: result.code, reason: result.reason, opened: result.opened, delay });
      await this.#sleep(delay);
    }
    this.#ws = null;
  }

  /** Full jitter: a random wait between 0 and min(maxBackoff, initialBackoff·2ⁿ) seconds. */
  #backoff(failures) {
    return Math.random() * Math.min(this.#maxBackoff, this.#initialBackoff * 2 ** Math.min(failures, 16));
  }

  #sleep(seconds) {
    return new Promise((resolve) => {
      const timer = setTimeout(done, seconds * 1000);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = () => {
        if (this.#closing) done(); // only close() cuts a backoff short; new sends wait for it
      };
    }).finally(() => (this.#wake = null));
  }

  async #currentToken() {
    const token = typeof this.#token === "function" ? await this.#token() : this.#token;
    return token == null || token === "" ? null : String(token);
  }

  /** One connection, from opening to its close: resolves to {opened, code, reason, worked}. */
  async #connectOnce() {
    let url = this.#url;
    try {
      const token = await this.#currentToken();
      if (token !== null) url = withParameter(url, "access_token", token);
    } catch (error) {
      return { opened: false, code: 1006, reason: `the token function failed: ${error?.message ?? error}` };
    }
    if (this.#closing) return { opened: false, code: 1006, reason: "closing" };
    return new Promise((resolve) => {
      let ws;
      try {
        ws = new this.#WebSocket(url);
      } catch (error) {
        resolve({ opened: false, code: 1006, reason: String(error?.message ?? error) });
        return;
      }
      let opened = false;
      let openedAt = 0;
      let replies = 0;
      const finish = (code, reason) => {
        clearTimeout(timer);
        ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
        if (this.#ws === ws) this.#ws = null;
        this.#endConnection = null;
        if (ws.readyState < 2) {
          try {
            ws.close(1000, "client closed");
          } catch {
            // already closing
          }
        }
        const worked = opened && (replies > 0 || Date.now() - openedAt >= WORKED_AFTER_MS);
        resolve({ opened, code, reason, worked });
      };
      const timer = setTimeout(() => finish(1006, `not open after ${this.#openTimeout} s`), this.#openTimeout * 1000);
      this.#endConnection = () => finish(1000, "client closed");
      ws.onopen = () => {
        clearTimeout(timer);
        opened = true;
        openedAt = Date.now();
        this.#ws = ws;
        this.#connectionNumber += 1;
        this.stats.connections += 1;
        this.#emit("open", { connection: this.#connectionNumber, url: this.#url });
        this.#resendUnacked();
      };
      ws.onmessage = (event) => {
        replies += 1;
        this.#handle(event.data);
      };
      // After an open the close event follows with the code; before it, Node 20's WebSocket never sends one.
      ws.onerror = () => opened || finish(1006, "");
      ws.onclose = (event) => finish(event.code, event.reason || "");
    });
  }

  /**
   * Everything not acked goes out again, oldest first: a message written on the old connection may or
   * may not have been stored (its ack was lost), so this is where duplicates can come from.
   */
  #resendUnacked() {
    for (const entry of [...this.#pending.values()]) {
      if (entry.done) continue;
      if (entry.attempts >= this.#maxAttempts) {
        this.#settle(entry, new DeliveryFailed(entry.id, "too_many_attempts", `sent ${entry.attempts} times without an ack`));
        continue;
      }
      if (entry.sentOn >= 0) this.stats.resent += 1;
      this.#write(entry);
    }
  }

  #handle(data) {
    let reply;
    try {
      reply = JSON.parse(data);
    } catch {
      return;
    }
    if (reply === null || typeof reply !== "object") return;
    if ("ack" in reply) {
      const id = String(reply.ack);
      this.#settle(this.#pending.get(id), Object.freeze({ id, partition: Number(reply.partition ?? -1), offset: Number(reply.offset ?? -1) }));
    } else if ("nack" in reply) {
      this.stats.nacks += 1;
      const id = String(reply.nack);
      const entry = this.#pending.get(id);
      const error = reply.error ?? {};
      if (reply.retriable && entry !== undefined && entry.attempts < this.#maxAttempts) {
        this.#write(entry); // same id: the daemon and the consumer see one message, sent twice
      } else {
        this.#settle(entry, new DeliveryFailed(id, error.code ?? "unknown", error.message ?? "", Boolean(reply.retriable)));
      }
    } else if ("error" in reply && "id" in reply) {
      const id = String(reply.id);
      const error = reply.error ?? {};
      this.#settle(this.#pending.get(id), new MessageRejected(id, error.reason ?? error.code ?? "", error.message ?? ""));
    }
  }

  #emit(type, detail) {
    const event = new Event(type);
    event.detail = detail;
    this.dispatchEvent(event);
  }
}

/** `url` with `ack=1` (a relative URL in a page is resolved against it, http→ws, https→wss). */
function withAcks(url) {
  return withParameter(url, "ack", "1");
}

function withParameter(url, name, value) {
  const base = globalThis.location?.href;
  const parsed = base ? new URL(url, base) : new URL(url);
  if (parsed.protocol === "http:") parsed.protocol = "ws:";
  if (parsed.protocol === "https:") parsed.protocol = "wss:";
  parsed.searchParams.set(name, value);
  return parsed.href;
}

/** 12 hex digits from the platform's CSPRNG: ids stay unique across clients, tabs and restarts. */
function randomPrefix() {
  const bytes = new Uint8Array(6);
  globalThis.crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

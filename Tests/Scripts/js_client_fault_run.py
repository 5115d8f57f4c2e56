#!/usr/bin/env python3
"""The fault-run runner for the JavaScript client: sends N messages through one Client in headless Chromium.

The fault tests start the daemon, a mock Kafka cluster and a TCP reset proxy, run this as a child and
inject faults (a broker that hangs, a daemon restart on the same port, connection resets) while reading
its progress. The page is the daemon's own /docs, loaded through the proxy (--base-url), so the module
/docs/kafka-chat-producer-client.js loads under the page's Content-Security-Policy and the WebSocket goes
through the proxy too. Message i (0-based) is sender P, text "P-i", tag "fault", sent with `sendNoWait` at
about --rate messages per second.

stdout, one JSON object a line: progress about every 200 ms
  {"sent": N, "acked": N, "failed": N, "inFlight": N, "connections": N, "resent": N, "nacks": N}
and, once all N are settled and close() returned, the same fields plus
  "done": true, "closes": {"1001": n, ...}, "errors": {"ErrorClass: message": count}, "seconds": S.
Diagnostics go to stderr. Messages still unacked --settle-seconds (60) after the last send fail with
ClientClosed. Exit 0 if every message was acked, 1 otherwise; stdin closing means abort
(exit 3 at once). Same protocol as python_client_fault_run.py.
"""
import argparse
import asyncio
import json
import os
import sys
import threading
import time
from urllib.parse import urlsplit

START = r"""
async ({ url, count, rate, prefix, win, settle }) => {
  const m = await import("/docs/kafka-chat-producer-client.js");
  const client = new m.Client(url, win ? { window: win } : {});
  const s = { sent: 0, acked: 0, failed: 0, errors: {}, done: false, seconds: 0, fatal: null };
  window.__faultRun = { s, client };
  client.addEventListener("open", (e) => console.log("open: connection " + e.detail.connection));
  client.addEventListener("close", (e) => console.log("close: " + JSON.stringify(e.detail)));
  const failed = (error) => {
    s.failed += 1;
    // The message's own id is left out, so the same failure of many messages is counted under one key.
    const text = error.messageId ? error.message.replace(error.messageId + ": ", "") : error.message;
    const key = (error.name || "Error") + ": " + text;
    s.errors[key] = (s.errors[key] || 0) + 1;
  };
  const t0 = performance.now();
  (async () => {
    for (let i = 0; i < count; i++) {
      const wait = t0 + (i * 1000) / rate - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      try {
        await client.sendNoWait(prefix, prefix + "-" + i, "fault", (o) => (o instanceof Error ? failed(o) : (s.acked += 1)));
      } catch (error) {
        failed(error);
      }
      s.sent += 1;
    }
    // What is still unacked this long after the last send fails as ClientClosed: a lost message ends
    // the run as a failure instead of hanging it.
    await client.close(settle);
  })()
    .catch((error) => (s.fatal = String(error)))
    .finally(() => {
      s.seconds = (performance.now() - t0) / 1000;
      s.done = true;
    });
}
"""

PROGRESS = r"""
() => {
  const { s, client } = window.__faultRun;
  const st = client.stats;
  return { sent: s.sent, acked: s.acked, failed: s.failed, inFlight: client.inFlight, connections: st.connections,
    resent: st.resent, nacks: st.nacks, done: s.done, closes: st.closes, errors: s.errors, seconds: s.seconds,
    fatal: s.fatal, failedOpens: st.failedOpens };
}
"""

FIELDS = ("sent", "acked", "failed", "inFlight", "connections", "resent", "nacks")


def log(*parts):
    print(*parts, file=sys.stderr, flush=True)


def abort_on_stdin_eof():
    """The harness closes stdin to abort: exit at once (Playwright's driver then ends Chromium)."""

    def watch():
        # os.read, not sys.stdin: a thread blocked in a buffered read would hold its lock at exit.
        try:
            while os.read(0, 65536):
                pass
        except OSError:
            pass
        log("stdin closed: aborting")
        os._exit(3)

    threading.Thread(target=watch, name="stdin-watch", daemon=True).start()


async def open_docs(page, base, deadline):
    """GET /docs through the proxy; the daemon may be down at that moment, so try until the deadline."""
    while True:
        try:
            response = await page.goto(base + "/docs", wait_until="load")
            if response is not None and response.status == 200:
                return
            log("GET /docs answered %s" % (response.status if response else "nothing"))
        except Exception as error:  # noqa: BLE001 - a refused or reset connection: try again
            log("GET /docs failed: %s" % str(error).split("\n")[0])
        if time.monotonic() > deadline:
            raise RuntimeError("could not load %s/docs" % base)
        await asyncio.sleep(0.5)


async def run(args):
    from playwright.async_api import async_playwright

    base = args.base_url.rstrip("/")
    parts = urlsplit(base)
    url = "%s://%s/send-message/chat/%s" % ("wss" if parts.scheme == "https" else "ws", parts.netloc, args.chat)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=args.chromium, headless=True, args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        try:
            page = await browser.new_page()
            page.on("console", lambda m: log("page %s: %s" % (m.type, m.text)))
            page.on("pageerror", lambda e: log("page error: %s" % e))
            await open_docs(page, base, time.monotonic() + 60)
            parameters = {"url": url, "count": args.count, "rate": args.rate, "prefix": args.prefix}
            parameters.update(win=args.window, settle=args.settle_seconds)
            await page.evaluate(START, parameters)
            while True:
                state = await page.evaluate(PROGRESS)
                if state["done"]:
                    break
                print(json.dumps({k: state[k] for k in FIELDS}), flush=True)
                await asyncio.sleep(0.2)
        finally:
            await browser.close()
    final = {k: state[k] for k in FIELDS}
    final.update(done=True, closes=state["closes"], errors=state["errors"], seconds=round(state["seconds"], 3))
    if state["fatal"]:
        final["errors"]["fatal: " + state["fatal"]] = 1
    print(json.dumps(final), flush=True)
    log("failed opens: %s" % state["failedOpens"])
    return 0 if state["acked"] == args.count else 1


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", required=True, help="the daemon (through the proxy), e.g. http://127.0.0.1:8000")
    parser.add_argument("--chat", required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--rate", type=float, required=True, help="messages per second")
    parser.add_argument("--prefix", required=True, help="the sender, and the texts' prefix")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--window", type=int, default=0, help="the client's window (default: the client's 256)")
    parser.add_argument(
        "--settle-seconds", type=float, default=60.0, help="after the last send, how long close() waits for acks"
    )
    args = parser.parse_args()
    abort_on_stdin_eof()
    try:
        code = asyncio.run(run(args))
    except Exception as error:  # noqa: BLE001 - the harness reads the exit code; the reason goes to stderr
        log("runner failed: %s: %s" % (type(error).__name__, error))
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # without waiting for the stdin thread


if __name__ == "__main__":
    main()

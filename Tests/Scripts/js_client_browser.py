#!/usr/bin/env python3
"""Tests the JavaScript client (clients/javascript) in headless Chromium, as the /docs page serves it.

It opens the daemon's /docs (so the module loads under the page's Content-Security-Policy), imports
/docs/kafka-chat-producer-client.js and, in the page, sends --count messages to one chat with a window of
8: half with `send` (all awaited together), half with `sendNoWait`. Then it checks: every message acked
once with a distinct id of the client's prefix, the window never exceeded, one connection and one call of
the token function; a message with a number as text ends as MessageRejected; flush and close return and
a send after close fails with ClientClosed; a message over the daemon's 64 KiB limit (close 1009) ends as
ConnectionFailed, and so does the next send on that client.

Prints ONE JSON line: {"ok": true, "texts": [...], "acks": N, ...} or {"ok": false, "error": ...} with
exit code 1. The caller checks that the texts are in Kafka.
"""
import argparse
import json
import sys

IN_PAGE = r"""
async ({ chat, count }) => {
  const m = await import("/docs/kafka-chat-producer-client.js");
  const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/send-message/chat/" + chat;
  const out = { texts: [] };
  let tokenCalls = 0, maxInFlight = 0;
  const client = new m.Client(url, { window: 8, token: async () => { tokenCalls += 1; return null; } });
  const watch = setInterval(() => { maxInFlight = Math.max(maxInFlight, client.inFlight); }, 1);
  const sends = [], outcomes = [];
  for (let i = 0; i < count / 2; i++) {
    out.texts.push("send-" + i);
    sends.push(client.send("js-client-test", "send-" + i, "unit"));
  }
  for (let i = 0; i < count - count / 2; i++) {
    out.texts.push("nowait-" + i);
    await client.sendNoWait("js-client-test", "nowait-" + i, "unit", (o) => outcomes.push(o));
    maxInFlight = Math.max(maxInFlight, client.inFlight);
  }
  const acks = await Promise.all(sends);
  await client.flush();
  clearInterval(watch);
  out.acks = acks.concat(outcomes.filter((o) => !(o instanceof Error)));
  out.errors = outcomes.filter((o) => o instanceof Error).map(String);
  out.maxInFlight = maxInFlight;
  out.inFlightAfterFlush = client.inFlight;
  out.url = client.url;
  try {
    await client.send("js-client-test", 42, "unit");
    out.invalid = "acked";
  } catch (e) {
    out.invalid = { name: e.name, rejected: e instanceof m.MessageRejected, reason: e.reason };
  }
  await client.close();
  out.stats = client.stats;
  out.tokenCalls = tokenCalls;
  try {
    await client.send("js-client-test", "after close", "unit");
    out.afterClose = "sent";
  } catch (e) {
    out.afterClose = e.name;
  }
  const big = new m.Client(url);
  try {
    await big.send("js-client-test", "x".repeat(70000), "unit");
    out.tooBig = "acked";
  } catch (e) {
    out.tooBig = { name: e.name, code: e.code, failed: e instanceof m.ConnectionFailed };
  }
  try {
    await big.send("js-client-test", "after 1009", "unit");
    out.afterFatal = "sent";
  } catch (e) {
    out.afterFatal = e.name;
  }
  await big.close();
  return out;
}
"""


class Failure(Exception):
    pass


def check(result, count):
    acks = result["acks"]
    ids = [ack["id"] for ack in acks]
    if len(acks) != count or result["errors"]:
        raise Failure("%d of %d acked; errors: %s" % (len(acks), count, result["errors"][:3]))
    if len(set(ids)) != count or len({i.rsplit("-", 1)[0] for i in ids}) != 1:
        raise Failure("ids are not distinct with one prefix: %s" % ids[:5])
    if not all(isinstance(a["partition"], int) and a["offset"] >= 0 for a in acks):
        raise Failure("an ack without partition/offset: %s" % acks[:3])
    if result["maxInFlight"] > 8 or result["inFlightAfterFlush"] != 0:
        raise Failure("window: up to %s in flight, %s after flush" % (result["maxInFlight"], result["inFlightAfterFlush"]))
    if not result["url"].endswith("?ack=1"):
        raise Failure("the client's URL has no ack=1: %s" % result["url"])
    invalid = result["invalid"]
    if not (isinstance(invalid, dict) and invalid["rejected"] and invalid["reason"] == "wrong_type"):
        raise Failure("a number as text was not MessageRejected(wrong_type): %s" % invalid)
    if result["stats"]["connections"] != 1 or result["tokenCalls"] != 1:
        raise Failure("expected one connection and one token call: %s, %s" % (result["stats"], result["tokenCalls"]))
    if result["afterClose"] != "ClientClosed":
        raise Failure("a send after close: %s" % result["afterClose"])
    too_big = result["tooBig"]
    if not (isinstance(too_big, dict) and too_big["failed"] and too_big["code"] == 1009):
        raise Failure("a 70 kB message did not end as ConnectionFailed(1009): %s" % too_big)
    if result["afterFatal"] != "ConnectionFailed":
        raise Failure("a send after the 1009 close: %s" % result["afterFatal"])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", required=True, help="the daemon, e.g. http://127.0.0.1:8000")
    parser.add_argument("--chat", required=True)
    parser.add_argument("--count", type=int, default=50)
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--timeout", type=float, default=30.0)
    args = parser.parse_args()
    result = {"ok": False, "console_errors": []}
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as error:
        result["error"] = "Playwright for Python is not installed: %s" % error
        print(json.dumps(result), flush=True)
        return 1

    errors = result["console_errors"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=args.chromium, headless=True, args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        try:
            page = browser.new_page()
            page.set_default_timeout(args.timeout * 1000)
            page.on("console", lambda m: m.type == "error" and errors.append("console: %s" % m.text))
            page.on("pageerror", lambda e: errors.append("pageerror: %s" % e))
            page.add_init_script(
                "document.addEventListener('securitypolicyviolation', e => console.error("
                "'CSP violation: ' + e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline')));"
            )
            response = page.goto(args.base_url.rstrip("/") + "/docs", wait_until="load")
            if response is None or response.status != 200:
                raise Failure("GET /docs answered %s" % (response.status if response else "nothing"))
            in_page = page.evaluate(IN_PAGE, {"chat": args.chat, "count": args.count})
            result.update({k: in_page[k] for k in ("texts", "stats", "invalid", "tooBig", "maxInFlight")})
            check(in_page, args.count)
            result["acks"] = len(in_page["acks"])
            page.wait_for_timeout(200)
            if errors:
                raise Failure("console errors: %s" % "; ".join(errors))
            result["ok"] = True
        except Exception as error:  # noqa: BLE001 - every failure becomes the JSON line
            result["error"] = str(error).strip().split("\n")[0] if not isinstance(error, Failure) else str(error)
        finally:
            browser.close()
    print(json.dumps(result), flush=True)
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())

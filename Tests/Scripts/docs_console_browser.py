#!/usr/bin/env python3
"""Drives the daemon's /docs page in headless Chromium, as a person would.

It opens /docs, waits until the page has rendered /asyncapi.json (body[data-rendered=true]), checks that
both channels are shown and that the status panel reports /health and /ready as 200, then uses the
console to send one chat message with acks on, waits for the ack in the log, and waits for the metrics
panel to count the message as accepted. It saves a full-page screenshot (1280 px wide), the top
1280x1240 of it (*-top.png) and a phone screenshot (390x844, after checking that the page does not
scroll sideways; *-phone.png).

Any console error, uncaught page error or CSP violation is a failure. The result is ONE JSON line:
  {"ok": true, "ack": {"id": ..., "partition": N, "offset": N}, "channels": [...], "health": 200,
   "ready": 200, "accepted": N, "console_errors": [], "screenshot": "...", "phone_screenshot": "..."}
or {"ok": false, "error": "...", ...} with exit code 1.

Needs Playwright for Python (Tests/Scripts/requirements.txt) and a Chromium binary (Debian's
`chromium`, passed with --chromium); `playwright install` is never needed.
"""
import argparse
import json
import os
import sys
import time

EXPECTED_CHANNELS = ["/send-message/global", "/send-message/chat/{chat}"]


class Failure(Exception):
    pass


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", required=True, help="the daemon, e.g. http://127.0.0.1:8000")
    parser.add_argument("--chat", required=True, help="the chat the console sends to")
    parser.add_argument("--sender", default="docs-browser-test")
    parser.add_argument("--text", required=True, help="the message text (make it unique)")
    parser.add_argument("--tag", default="browser-test")
    parser.add_argument("--screenshot", required=True, help="PNG path; the phone one is saved next to it as *-phone.png")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds for each wait")
    return parser.parse_args()


def variant_path(path, variant):
    root, ext = os.path.splitext(path)
    return root + "-" + variant + (ext or ".png")


def phone_path(path):
    return variant_path(path, "phone")


def main():
    args = parse_args()
    result = {"ok": False, "console_errors": []}
    try:
        from playwright.sync_api import sync_playwright, Error as PlaywrightError
    except ImportError as error:
        result["error"] = "Playwright for Python is not installed: %s" % error
        print(json.dumps(result), flush=True)
        return 1

    base = args.base_url.rstrip("/")
    timeout_ms = int(args.timeout * 1000)
    screenshot = os.path.abspath(args.screenshot)
    phone = phone_path(screenshot)
    os.makedirs(os.path.dirname(screenshot), exist_ok=True)
    errors = result["console_errors"]
    page = None

    with sync_playwright() as playwright:
        browser = None
        try:
            browser = playwright.chromium.launch(
                executable_path=args.chromium,
                headless=True,
                args=["--headless", "--no-sandbox", "--disable-gpu"],
            )
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            page = context.new_page()
            page.set_default_timeout(timeout_ms)

            def on_console(message):
                # CSP violations are reported as console errors too ("Refused to ...").
                if message.type == "error":
                    location = message.location or {}
                    errors.append("console: %s (%s:%s)" % (message.text, location.get("url", ""), location.get("lineNumber", "")))

            page.on("console", on_console)
            page.on("pageerror", lambda error: errors.append("pageerror: %s" % error))
            # Also collect CSP violations directly, in case a build reports them only as events.
            page.add_init_script(
                "document.addEventListener('securitypolicyviolation', e => console.error("
                "'CSP violation: ' + e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline') + ' at line ' + e.lineNumber));"
            )

            response = page.goto(base + "/docs", wait_until="load")
            if response is None or response.status != 200:
                raise Failure("GET /docs answered %s" % (response.status if response else "nothing"))
            csp = response.headers.get("content-security-policy", "")
            if "script-src 'sha256-" not in csp or "style-src 'sha256-" not in csp:
                raise Failure("GET /docs has no hash-based Content-Security-Policy: %r" % csp)

            page.wait_for_selector("body[data-rendered]", state="attached")
            rendered = page.get_attribute("body", "data-rendered")
            if rendered != "true":
                raise Failure("the page did not render /asyncapi.json (data-rendered=%s): %s"
                              % (rendered, page.text_content("#load-error")))
            channels = page.eval_on_selector_all("[data-channel-address]", "els => els.map(e => e.dataset.channelAddress)")
            result["channels"] = channels
            missing = [address for address in EXPECTED_CHANNELS if address not in channels]
            if missing:
                raise Failure("channels not rendered: %s" % missing)

            for key, selector in (("health", "#status-health"), ("ready", "#status-ready")):
                try:
                    page.wait_for_selector(selector + '[data-status="200"]', state="attached")
                except PlaywrightError:
                    raise Failure("the status panel does not show %s 200: %s" % (key, page.text_content(selector)))
                result[key] = 200

            page.select_option("#endpoint", "chat")
            page.fill("#chat", args.chat)
            page.fill("#sender", args.sender)
            page.fill("#tag", args.tag)
            page.fill("#text", args.text)
            page.fill("#msg-id", "")
            page.check("#ack")
            page.click("#send")
            sent = page.wait_for_selector('#log [data-kind="sent"]', state="attached")
            sent_id = sent.get_attribute("data-id")
            # The first reply or close event decides: an ack passes, a nack, error or refused handshake fails at once.
            outcome = ", ".join('#log [data-kind="%s"]' % kind for kind in ("ack", "nack", "error", "close"))
            try:
                ack = page.wait_for_selector(outcome, state="attached")
            except PlaywrightError:
                ack = None
            if ack is None or ack.get_attribute("data-kind") != "ack":
                log = page.eval_on_selector_all("#log li", "els => els.map(e => e.innerText.replace(/\\s+/g, ' '))")
                raise Failure("no ack in the console log: %s" % log)
            ack_id = json.loads(ack.get_attribute("data-id"))
            result["ack"] = {
                "id": ack_id,
                "partition": int(ack.get_attribute("data-partition")),
                "offset": int(ack.get_attribute("data-offset")),
            }
            if sent_id is not None and json.loads(sent_id) != ack_id:
                raise Failure("the ack's id %r is not the sent message's %r" % (ack_id, sent_id))
            page.wait_for_function(
                "() => { const d = document.querySelector('#metrics [data-metric=accepted]');"
                " return d && Number(d.dataset.value) >= 1; }",
                timeout=timeout_ms,
            )
            result["accepted"] = int(float(page.get_attribute("#metrics [data-metric=accepted]", "data-value")))

            page.screenshot(path=screenshot, full_page=True)
            result["screenshot"] = screenshot
            # What a person first sees (console, ack, status): the picture in docs/images/docs-console.png.
            page.screenshot(path=variant_path(screenshot, "top"), full_page=True, clip={"x": 0, "y": 0, "width": 1280, "height": 1240})
            result["top_screenshot"] = variant_path(screenshot, "top")

            page.set_viewport_size({"width": 390, "height": 844})
            page.wait_for_timeout(300)
            width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
            if width[0] > width[1]:
                wide = page.evaluate(
                    "() => Array.from(document.querySelectorAll('body *')).filter(e => e.getBoundingClientRect().right > innerWidth + 1"
                    " && !e.closest('pre, .tw')).slice(0, 5).map(e => e.tagName + (e.id ? '#' + e.id : '') + '.' + e.className)"
                )
                page.screenshot(path=phone, full_page=True)
                raise Failure("the page scrolls sideways at 390 px (scrollWidth %d > %d): %s" % (width[0], width[1], wide))
            page.screenshot(path=phone, full_page=True)
            result["phone_screenshot"] = phone

            # Let late errors (a failed poll, a CSP report) arrive before judging.
            page.wait_for_timeout(500)
            if errors:
                raise Failure("console errors: %s" % "; ".join(errors))
            result["ok"] = True
        except Exception as error:  # noqa: BLE001 - every failure becomes the JSON line
            if isinstance(error, Failure):
                result["error"] = str(error)
            elif isinstance(error, PlaywrightError):
                result["error"] = str(error).strip().split("\n")[0]
            else:
                result["error"] = "%s: %s" % (type(error).__name__, error)
            if page is not None and "screenshot" not in result:
                try:
                    page.screenshot(path=screenshot, full_page=True)
                    result["screenshot"] = screenshot
                except Exception:
                    pass
        finally:
            if browser is not None:
                browser.close()

    print(json.dumps(result), flush=True)
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Autobahn|Testsuite runs against the daemon's WebSocket layer, judged case by case (see scripts/autobahn).

Two targets, both on loopback:
  echo    autobahn-echo (Benchmarks/Sources/AutobahnEcho): the daemon's WebSocketFrameReader, WebSocketFrameWriter
          and UTF8Validator behind an echo server. Sections 1-7, 9 and 10.
  daemon  the daemon itself (--embedded-broker) on /send-message/global. Sections 2 (ping/pong), 6 (UTF-8: in the
          daemon a single-frame text is checked by the message validator, not the frame reader) and 7 (close).

Every case must end with the verdict expected for it: OK/OK unless `EXCEPTIONS` or, for the daemon, the
not-an-echo-server rule (`daemon_echo_rule`) says otherwise, with the reason. Anything else is unexpected and makes
the run fail, as does a missing case, a kosoku run that times out, or a server that dies during the run.
"""
import argparse, dataclasses, json, os, re, select, shutil, signal, subprocess, sys, textwrap, time

# Cases per section in kosoku 0.1.0 (Autobahn's case files); a run that reports fewer did not complete.
CASES_PER_SECTION = {"1": 16, "2": 11, "3": 7, "4": 10, "5": 20, "6": 145, "7": 37, "9": 54, "10": 1}
SECTIONS = {"echo": ["1", "2", "3", "4", "5", "6", "7", "9", "10"], "daemon": ["2", "6", "7"]}
# The echo server handles one case at a time in order (section 9 measures timings); the daemon's cases mostly
# wait for timers (see daemon_echo_rule), so they run in parallel.
PARALLELISM = {"echo": 1, "daemon": 8}
PASSING = {"OK", "NON-STRICT", "INFORMATIONAL"}


@dataclasses.dataclass(frozen=True)
class Expect:
    behavior: str
    close: str
    close_codes: frozenset  # close codes the server may send; empty: any
    why: str


FAIL_FAST = Expect(
    "NON-STRICT", "OK", frozenset({1007}),
    "invalid UTF-8 inside one text frame that arrives in chops: the frame is judged once it is complete (at most "
    "max_message_bytes are ever buffered), so the connection is failed with 1007 at the end of the frame, not at the "
    "bad byte. Fail-fast is a SHOULD (RFC 6455 §8.1); fragments (6.4.1, 6.4.2) do fail fast.",
)
CLOSE_CODE_ABOVE_4999 = Expect(
    "INFORMATIONAL", "INFORMATIONAL", frozenset({1002}),
    "close code 5000 / 65535 is outside every range RFC 6455 §7.4 defines; the suite leaves the answer open, "
    "we fail the connection with 1002 like any invalid close code.",
)
EXCEPTIONS = {
    "echo": {
        "6.4.3": FAIL_FAST,
        "6.4.4": FAIL_FAST,
        "7.1.6": Expect(
            "INFORMATIONAL", "INFORMATIONAL", frozenset({1000}),
            "outcome left to the implementation: the 256 KiB message and 'Hello World!' are echoed before the "
            "close is answered with 1000.",
        ),
        "7.13.1": CLOSE_CODE_ABOVE_4999,
        "7.13.2": CLOSE_CODE_ABOVE_4999,
    },
    "daemon": {
        "6.4.3": FAIL_FAST,
        "6.4.4": FAIL_FAST,
        "7.1.6": Expect(
            "INFORMATIONAL", "INFORMATIONAL", frozenset({1009}),
            "outcome left to the implementation: the 256 KiB message is larger than websocket.max_message_bytes "
            "(64 KiB), so the daemon closes with 1009 as soon as it reads the frame header.",
        ),
        "7.13.1": CLOSE_CODE_ABOVE_4999,
        "7.13.2": CLOSE_CODE_ABOVE_4999,
    },
}

# What the daemon answers instead of an echo (docs/protocol.md, "Message contract"): an error frame, connection kept open.
DAEMON_TEXT_REPLY = re.compile(r'^\{"error":\{"code":"invalid_message","reason":"(invalid_json|not_an_object)"')
DAEMON_BINARY_REPLY = re.compile(r'^\{"error":\{"code":"unsupported_frame"')
DAEMON_ECHO_RULE = (
    "not an echo server: each expected echo is answered with the daemon's error frame (invalid_message / "
    "invalid_json for text, unsupported_frame for binary) and the connection stays open, so the suite sees "
    "different events (FAILED) and, when the case waits for the echo before closing, drops the connection "
    "itself after its timer (close FAILED, no close frame from the daemon)."
)


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def daemon_echo_rule(report):
    """None when the case expects no echoed message (the rule does not apply); otherwise a list of the ways
    the case departs from the daemon's contract (empty: exactly the expected non-echo)."""
    expected = (report.get("expected") or {}).get("OK") or []
    if not any(event[0] == "message" for event in expected):
        return None
    problems = []
    if report["behavior"] != "FAILED":
        problems.append(f"behavior {report['behavior']}, expected FAILED")
    received = report.get("received") or []
    if len(received) != len(expected):
        problems.append(f"{len(received)} events received for {len(expected)} expected")
    for want, got in zip(expected, received):
        if want[0] == "message":
            pattern = DAEMON_BINARY_REPLY if want[2] else DAEMON_TEXT_REPLY
            if got[0] != "message" or got[2] or not pattern.match(str(got[1])):
                problems.append(f"expected the daemon's error frame for {want[0]!r}, got {got!r}")
        elif list(want) != list(got):
            problems.append(f"expected {want!r}, got {got!r}")
    close = report["behaviorClose"]
    kept_open = report.get("remoteCloseCode") is None and report.get("droppedByMe")
    if not (close == "OK" or (close == "FAILED" and kept_open)):
        problems.append(f"close {close} (remote code {report.get('remoteCloseCode')})")
    return problems


def judge(target, case_id, entry, report):
    """(as_expected, note) for one case."""
    behavior, close, code = entry["behavior"], entry["behaviorClose"], entry.get("remoteCloseCode")
    expect = EXCEPTIONS[target].get(case_id)
    if expect is not None:
        if behavior == expect.behavior and close == expect.close and (not expect.close_codes or code in expect.close_codes):
            return True, expect.why
        if behavior == "OK" and close == "OK":
            return True, "better than expected (OK/OK): update EXCEPTIONS in scripts/autobahn.py and docs/testing.md"
        codes = "/".join(map(str, sorted(expect.close_codes))) or "any"
        return False, f"expected {expect.behavior}/{expect.close} with close code {codes}: {expect.why}"
    if target == "daemon":
        problems = daemon_echo_rule(report)
        if problems is not None:
            return (not problems), ("; ".join(problems) if problems else DAEMON_ECHO_RULE)
    if behavior == "OK" and close == "OK":
        return True, None
    return False, f"expected OK/OK; {report.get('result')} {report.get('resultClose')}"


def read_line(process, pattern, timeout, source=None):
    """Waits for a line matching `pattern` on the process's stdout (or in the file `source`)."""
    deadline = time.monotonic() + timeout
    seen = ""
    while time.monotonic() < deadline:
        if source is not None:
            seen = open(source, errors="replace").read()
        else:
            ready, _, _ = select.select([process.stdout], [], [], 0.2)
            if ready:
                line = process.stdout.readline()
                seen += line
        match = re.search(pattern, seen, re.MULTILINE)
        if match:
            return int(match.group(1))
        if process.poll() is not None:
            raise RuntimeError(f"exited with {process.returncode} before listening:\n{seen[-2000:]}")
        if source is not None:
            time.sleep(0.1)
    raise RuntimeError(f"not listening after {timeout} s:\n{seen[-2000:]}")


def stop(process, name, timeout=30):
    """SIGTERM and wait; returns a problem description or None."""
    if process.poll() is not None:
        return f"{name} died during the run (exit code {process.returncode})"
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        return f"{name} did not stop within {timeout} s of SIGTERM"
    return None


def run_kosoku(args, target, url, outdir):
    shutil.rmtree(outdir, ignore_errors=True)
    command = [args.kosoku, url, "-o", outdir, "-p", str(PARALLELISM[target])]
    for section in SECTIONS[target]:
        command += ["-i", f"{section}.*"]
    log(f"[{target}] kosoku {url}: sections {', '.join(SECTIONS[target])}")
    started = time.monotonic()
    with open(os.path.join(args.out, f"kosoku-{target}.log"), "w") as output:
        try:
            # Exit status 1 only says some case did not pass; the verdicts are judged from the reports.
            subprocess.run(command, stdout=output, stderr=subprocess.STDOUT, timeout=args.timeout, check=False)
        except subprocess.TimeoutExpired:
            return None, time.monotonic() - started, f"kosoku did not finish within {args.timeout} s"
    seconds = time.monotonic() - started
    try:
        index = json.load(open(os.path.join(outdir, "index.json")))
    except (OSError, ValueError) as error:
        return None, seconds, f"no report from kosoku ({error}); see kosoku-{target}.log"
    cases = {}
    for entries in index.values():  # one agent: the server's `Server` header, or its address
        for case_id, entry in entries.items():
            report = json.load(open(os.path.join(outdir, entry["reportfile"])))
            cases[case_id] = (entry, report)
    return cases, seconds, None


def evaluate(target, cases):
    """Rows of the summary table, the notable cases and the unexpected ones."""
    rows, notable, unexpected = [], [], []
    for section in SECTIONS[target]:
        ids = sorted((c for c in cases if c.split(".")[0] == section), key=lambda c: [int(p) for p in c.split(".")])
        behaviors, closes, good = {}, {}, 0
        for case_id in ids:
            entry, report = cases[case_id]
            behaviors[entry["behavior"]] = behaviors.get(entry["behavior"], 0) + 1
            closes[entry["behaviorClose"]] = closes.get(entry["behaviorClose"], 0) + 1
            ok, note = judge(target, case_id, entry, report)
            good += ok
            line = (case_id, entry["behavior"], entry["behaviorClose"], entry.get("remoteCloseCode"), note)
            if not ok:
                unexpected.append(line)
            elif note:
                notable.append(line)
        missing = CASES_PER_SECTION[section] - len(ids)
        if missing > 0:
            unexpected.append((f"{section}.*", None, None, None, f"{missing} of {CASES_PER_SECTION[section]} cases missing from the report"))
        rows.append((section, len(ids), behaviors, closes, good, missing))
    return rows, notable, unexpected


def counts(verdicts):
    order = ["OK", "NON-STRICT", "INFORMATIONAL", "FAILED", "UNIMPLEMENTED", "ERROR", "WRONG CODE", "UNCLEAN", "FAILED BY CLIENT"]
    keys = sorted(verdicts, key=lambda k: order.index(k) if k in order else len(order))
    return ", ".join(f"{k} {verdicts[k]}" for k in keys) or "-"


def table(target, rows):
    lines = []
    for section, total, behaviors, closes, good, missing in rows:
        expected_total = total + max(missing, 0)
        lines.append(f"{target:<7} {section:>3} {total:>5}  {counts(behaviors):<36} {counts(closes):<36} {good}/{expected_total}")
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--echo", required=True, help="autobahn-echo binary")
    parser.add_argument("--daemon", required=True, help="kafka-chat-producer binary")
    parser.add_argument("--kosoku", required=True, help="kosoku command")
    parser.add_argument("--kosoku-version", default="?")
    parser.add_argument("--out", required=True, help="report folder")
    parser.add_argument("--timeout", type=int, default=300, help="seconds one kosoku run may take")
    parser.add_argument("--only", choices=sorted(SECTIONS), help="run one target only")
    parser.add_argument("--build-seconds", type=float, help="time the builds took, for the summary")
    args = parser.parse_args()
    run_started = time.monotonic()
    os.makedirs(args.out, exist_ok=True)

    results, problems, durations = {}, [], {}
    for target in SECTIONS:
        if args.only and target != args.only:
            continue
        started = time.monotonic()
        server_log = os.path.join(args.out, f"{target}-server.log")
        if target == "echo":
            with open(server_log, "w") as stderr:
                server = subprocess.Popen([args.echo], stdout=subprocess.PIPE, stderr=stderr, stdin=subprocess.DEVNULL, text=True)
            port_of = lambda: read_line(server, r"^listening port=(\d+)$", 30)
            path = "/"
        else:
            with open(server_log, "w") as output:
                server = subprocess.Popen(
                    [args.daemon, "--embedded-broker", "--host", "127.0.0.1", "--port", "0"],
                    stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                )
            # e.g. `… info kafka-chat-producer: address=[IPv4]127.0.0.1/127.0.0.1:37589 [Gateway] listening`
            port_of = lambda: read_line(server, r"^(?=.*\blistening\b).*\baddress=\S*:(\d+)\b", 60, source=server_log)
            path = "/send-message/global"
        try:
            port = port_of()
        except RuntimeError as error_text:
            server.kill()
            server.wait()
            problems.append(f"{target}: the server did not start: {error_text}")
            results[target], durations[target] = {}, (time.monotonic() - started, 0.0)
            continue
        try:
            cases, seconds, error = run_kosoku(args, target, f"ws://127.0.0.1:{port}{path}", os.path.join(args.out, target))
        finally:
            stopped = stop(server, "autobahn-echo" if target == "echo" else "the daemon")
        if stopped:
            problems.append(f"{target}: {stopped}; see {server_log}")
        elif target == "daemon" and server.returncode != 0:
            problems.append(f"daemon: exit code {server.returncode} after SIGTERM; see {server_log}")
        if error:
            problems.append(f"{target}: {error}")
        results[target] = cases or {}
        durations[target] = (time.monotonic() - started, seconds)

    summary = [f"Autobahn|Testsuite (kosoku {args.kosoku_version}): verdicts per section", ""]
    summary.append(f"{'target':<7} {'sec':>3} {'cases':>5}  {'behavior':<36} {'close':<36} as expected")
    notable_all, unexpected_all, total, as_expected = [], [], 0, 0
    for target, cases in results.items():
        rows, notable, unexpected = evaluate(target, cases)
        summary += table(target, rows)
        total += sum(row[1] + max(row[5], 0) for row in rows)
        as_expected += sum(row[4] for row in rows)
        notable_all += [(target,) + line for line in notable]
        unexpected_all += [(target,) + line for line in unexpected]
    summary.append("")
    for target, (whole, suite) in durations.items():
        summary.append(f"{target}: {suite:.1f} s in kosoku, {whole:.1f} s with server start and stop")
    summary.append("")
    if notable_all:
        summary.append("Expected verdicts other than OK/OK:")
        groups = {}
        for target, case_id, behavior, close, code, note in notable_all:
            group = groups.setdefault((target, note), {"ids": [], "verdicts": {}})
            group["ids"].append(case_id)
            verdict = f"{behavior}/{close}" + (f" close code {code}" if code is not None else " no close code")
            group["verdicts"][verdict] = group["verdicts"].get(verdict, 0) + 1
        for (target, note), group in groups.items():
            verdicts = ", ".join(f"{v} ({n})" if len(group["verdicts"]) > 1 else v for v, n in group["verdicts"].items())
            summary += textwrap.wrap(f"{target} {', '.join(group['ids'])}: {verdicts}", 110, initial_indent="  ", subsequent_indent="      ")
            summary += textwrap.wrap(note, 110, initial_indent="      ", subsequent_indent="      ")
        summary.append("")
    if unexpected_all or problems:
        summary.append("UNEXPECTED:")
        for target, case_id, behavior, close, code, note in unexpected_all:
            verdict = f"{behavior}/{close} close code {code}: " if behavior else ""
            summary += textwrap.wrap(f"{target} {case_id}: {verdict}{note}", 110, initial_indent="  ", subsequent_indent="      ")
        for problem in problems:
            summary.append(f"  {problem}")
        summary.append("")
    summary.append(f"reports: {args.out}/echo/index.html, {args.out}/daemon/index.html")
    if args.build_seconds is not None:
        summary.append(f"time: {args.build_seconds:.0f} s builds and kosoku install, {time.monotonic() - run_started:.0f} s suite runs")
    failed = total - as_expected + len(problems)
    summary.append(f"autobahn: {as_expected} passed, {failed} failed")
    text = "\n".join(summary)
    print(text, flush=True)
    with open(os.path.join(args.out, "summary.txt"), "w") as handle:
        handle.write(text + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""The load-test matrix: mock broker, daemon and load generator on this machine, loopback only.

For every cell it starts a fresh mock broker (own process) and a fresh daemon, then measures:
  * daemon: messages/s delivered into Kafka at full speed (lost must be 0),
  * raw: the same messages pushed straight through librdkafka with the daemon's settings (the ceiling),
  * p50/p99 send->ack latency with acks at half of the daemon's full-speed rate,
  * the daemon's CPU time (as % of the full-speed run, and per delivered message) and peak RSS (from /proc).
and prints a Markdown table. `--idle` adds the RSS-per-idle-connection measurement (10 000 connections),
`--many-connections` one cell of 10 000 connections at a fixed total rate with acks (latency, CPU, RSS).

`--repeat N` measures each cell's full-speed runs (daemon and raw) and its latency run N times (fresh
broker and daemon each time); the table shows medians, the JSON every run. Every run writes an HTML report
(throughput-over-time and latency-percentile charts, inline SVG) and the JSON next to it, by default in
Benchmarks/results/ (the JSON: {"cells": [...], "manyConnections": {...}, "idle": {...}, "commit", ...}).
`--baseline F` compares with the JSON of an earlier run and flags what got worse by
more than the run-to-run spread (see `compare`); regressions are printed, they do not change the exit
status, which is 1 only when messages were lost or a daemon did not exit cleanly.
"""
import argparse, json, os, re, resource, signal, statistics, subprocess, sys, time

import bench_report

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# All three come from one release build in the Benchmarks package (scripts/build-release-tools).
DAEMON = os.path.join(ROOT, "Benchmarks/.build/release/kafka-chat-producer")
GENERATOR = os.path.join(ROOT, "Benchmarks/.build/release/load-generator")
BROKER = os.path.join(ROOT, "Benchmarks/.build/release/mock-broker")
TICKS = os.sysconf("SC_CLK_TCK")


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def raise_fd_limit(target=131072):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, max(hard, target)))
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def proc_cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def proc_status_kib(pid, key):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


class Broker:
    def __init__(self, topics, partitions):
        args = [BROKER, "--partitions", str(partitions)]
        for topic in topics:
            args += ["--topic", topic]
        self.process = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.bootstrap = self.process.stdout.readline().strip()

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)


class Daemon:
    def __init__(self, bootstrap, extra=()):
        self.log_path = f"/tmp/kcp-bench-daemon-{os.getpid()}.log"
        self.log_file = open(self.log_path, "w")
        self.process = subprocess.Popen(
            [DAEMON, "--bootstrap-servers", bootstrap, "--host", "127.0.0.1", "--port", "0", *extra],
            stdout=self.log_file, stderr=self.log_file)
        deadline = time.time() + 30
        self.port = None
        while time.time() < deadline and self.port is None:
            match = re.search(r"address=\S*:(\d+)\S* .*listening", open(self.log_path).read())
            if match:
                self.port = int(match.group(1))
            else:
                time.sleep(0.05)
        if self.port is None:
            raise RuntimeError("daemon did not start:\n" + open(self.log_path).read())

    def cpu(self):
        return proc_cpu_seconds(self.process.pid)

    def peak_rss_kib(self):
        return proc_status_kib(self.process.pid, "VmHWM")

    def rss_kib(self):
        return proc_status_kib(self.process.pid, "VmRSS")

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=60)
        self.log_file.close()
        final = re.findall(r"accepted=(\d+) delivered=(\d+) failed=(\d+)", open(self.log_path).read())
        return code, final[-1] if final else None


def generator(args, timeout=300):
    result = subprocess.run([GENERATOR, *args, "--json"], capture_output=True, text=True, timeout=timeout)
    if result.returncode not in (0, 1) or not result.stdout.strip():
        raise RuntimeError(f"load-generator {' '.join(args)} failed ({result.returncode}):\n{result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def fresh_daemon(chats):
    """A new mock broker and a new daemon for every measurement: each starts from empty topics and a
    small broker (librdkafka's mock cluster keeps only a few MiB per partition in memory)."""
    topics = ["kafka.chat.global"] if chats == 0 else [f"kafka.chat.room-{i}" for i in range(chats)]
    broker = Broker(topics, partitions=4)
    try:
        return broker, Daemon(broker.bootstrap)
    except Exception:
        broker.stop()
        raise


def topics_of(chats):
    return ["kafka.chat.global"] if chats == 0 else [f"kafka.chat.room-{i}" for i in range(chats)]


def full_speed(chats, shape, messages):
    """One full-speed run against a fresh daemon: the generator's report and the daemon's CPU and RSS."""
    broker, daemon = fresh_daemon(chats)
    try:
        cpu_before, start = daemon.cpu(), time.time()
        report = generator(["--url", f"ws://127.0.0.1:{daemon.port}", "--bootstrap-servers", broker.bootstrap,
                            "--messages", str(messages), *shape])
        cpu_used, wall = daemon.cpu() - cpu_before, time.time() - start
        peak = daemon.peak_rss_kib()
        code, final = daemon.stop()
    finally:
        broker.stop()
    return {
        "report": report, "code": code, "final": final, "peakRssMiB": peak / 1024.0,
        "cpuPercent": 100.0 * cpu_used / wall if wall > 0 else 0.0,
        # CPU time per delivered message: comparable across runs on a shared machine, unlike msgs/s.
        "cpuMicrosPerMessage": 1e6 * cpu_used / report["delivered"] if report.get("delivered") else 0.0,
    }


def raw_run(chats, size, messages):
    broker = Broker(topics_of(chats), partitions=4)
    try:
        return generator(["--raw", "--bootstrap-servers", broker.bootstrap, "--chats", str(chats),
                          "--size", str(size), "--messages", str(messages)])
    finally:
        broker.stop()


def median_index(values):
    """Index of the run whose value is the (lower) median: the run the charts show."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    return order[(len(order) - 1) // 2]


def run_cell(chats, connections, size, messages, latency_seconds, repeat=1):
    shape = ["--connections", str(connections), "--chats", str(chats), "--size", str(size)]

    # Daemon and raw alternate, so that a slower phase of a shared machine hits both of a pair.
    fulls, raws = [], []
    for _ in range(repeat):
        fulls.append(full_speed(chats, shape, messages))
        raws.append(raw_run(chats, size, messages))

    # Latency is measured with acks, so "the maximum rate" is the one an ack-mode client reaches
    # (acks cost the daemon and the client CPU that a fire-and-forget client does not spend).
    broker, daemon = fresh_daemon(chats)
    try:
        ack_max = generator(["--url", f"ws://127.0.0.1:{daemon.port}", "--bootstrap-servers", broker.bootstrap,
                             "--acks", "--messages", str(messages), *shape])
        daemon.stop()
    finally:
        broker.stop()

    # One rate for every repetition, so their p99s are samples of the same thing.
    half_rate = max(1000, int(ack_max["deliveredPerSecond"] / 2))
    latencies, latency_code = [], 0
    for _ in range(repeat):
        broker, daemon = fresh_daemon(chats)
        try:
            latencies.append(generator(["--url", f"ws://127.0.0.1:{daemon.port}", "--bootstrap-servers", broker.bootstrap,
                                        "--acks", "--rate", str(half_rate), "--duration", str(latency_seconds), *shape]))
            latency_code = max(latency_code, daemon.stop()[0])
        finally:
            broker.stop()

    samples = {
        "daemonMsgsPerSecond": [f["report"]["deliveredPerSecond"] for f in fulls],
        "rawMsgsPerSecond": [r["deliveredPerSecond"] for r in raws],
        "daemonRawRatio": [f["report"]["deliveredPerSecond"] / r["deliveredPerSecond"] if r["deliveredPerSecond"] else 0.0
                           for f, r in zip(fulls, raws)],
        "p50AckMs": [l["latencyMs"]["p50"] for l in latencies],
        "p99AckMs": [l["latencyMs"]["p99"] for l in latencies],
        "daemonCpuMicrosPerMessage": [f["cpuMicrosPerMessage"] for f in fulls],
        "daemonCpuPercent": [f["cpuPercent"] for f in fulls],
        "daemonPeakRssMiB": [f["peakRssMiB"] for f in fulls],
    }
    median = {key: statistics.median(values) for key, values in samples.items()}
    shown_full = fulls[median_index(samples["daemonMsgsPerSecond"])]
    return {
        "chats": chats, "connections": connections, "size": size, "repeat": repeat,
        # The runs nearest the medians (all of them are in daemonRuns, rawRuns, latencyRuns).
        "daemon": shown_full["report"], "raw": raws[median_index(samples["rawMsgsPerSecond"])],
        "ackMax": ack_max, "latency": latencies[median_index(samples["p99AckMs"])], "halfRate": half_rate,
        "daemonCpuPercent": median["daemonCpuPercent"],
        "daemonCpuMicrosPerMessage": median["daemonCpuMicrosPerMessage"],
        "daemonPeakRssMiB": max(samples["daemonPeakRssMiB"]),
        "daemonExit": max([f["code"] for f in fulls] + [latency_code]), "daemonFinal": shown_full["final"],
        "lost": sum(f["report"]["lost"] for f in fulls) + sum(l["lost"] for l in latencies) + ack_max["lost"],
        "samples": samples, "median": median,
        "daemonRuns": [f["report"] for f in fulls], "rawRuns": raws, "latencyRuns": latencies,
    }


def run_many(connections, rate, seconds, size=100):
    """Many connections to one topic at a fixed total rate with acks: every connection sends rate/connections
    messages per second, spread evenly over time (the generator's open-loop schedule). Connections are all
    open before the timed phase; the daemon's CPU is read by the generator over that phase only (--cpu-of),
    so the 10 000 upgrades and closes do not count against the messages."""
    broker, daemon = fresh_daemon(0)
    try:
        rss_before = daemon.rss_kib()
        report = generator(["--url", f"ws://127.0.0.1:{daemon.port}", "--bootstrap-servers", broker.bootstrap,
                            "--acks", "--connections", str(connections), "--chats", "0", "--size", str(size),
                            "--rate", str(rate), "--duration", str(seconds), "--cpu-of", str(daemon.process.pid)],
                           timeout=600)
        peak = daemon.peak_rss_kib()
        code, final = daemon.stop()
    finally:
        broker.stop()
    cpu = report.get("targetCpuSeconds") or 0.0
    delivered = report.get("delivered") or 0
    return {
        "connections": connections, "rate": rate, "seconds": seconds, "size": size, "report": report,
        "daemonCpuSeconds": cpu,
        "daemonCpuPercent": 100.0 * cpu / report["durationSeconds"] if report["durationSeconds"] else 0.0,
        "daemonCpuMicrosPerMessage": 1e6 * cpu / delivered if delivered else 0.0,
        "daemonRssBeforeMiB": rss_before / 1024.0, "daemonPeakRssMiB": peak / 1024.0,
        "daemonExit": code, "daemonFinal": final, "lost": report["lost"],
    }


def idle_rss(connections):
    broker, daemon = fresh_daemon(0)
    try:
        # One connection first, so the first ring and buffers exist in the baseline.
        generator(["--url", f"ws://127.0.0.1:{daemon.port}", "--bootstrap-servers", broker.bootstrap,
                   "--connections", "1", "--messages", "10", "--size", "100"])
        time.sleep(0.5)
        before = daemon.rss_kib()
        holder = subprocess.Popen([GENERATOR, "--url", f"ws://127.0.0.1:{daemon.port}", "--idle-connections", str(connections)],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = holder.stdout.readline()
        if "idle connections open" not in line:
            raise RuntimeError(f"idle connections did not open: {line!r}")
        time.sleep(1.0)
        after = daemon.rss_kib()
        holder.stdin.close()
        holder.wait(timeout=60)
        daemon.stop()
    finally:
        broker.stop()
    return before, after, (after - before) / connections


# Tolerances used when a run has a single sample of a figure (no spread of its own), from this 2-core machine,
# shared by daemon, broker and generator (docs/performance.md has the figures): over two runs of the matrix
# at one commit and over three runs of each cell in one --repeat 3 run, the relative spread was 1-55 % for
# daemon msgs/s (median 13-16 %), 19-93 % for daemon/raw (raw moves as much as the daemon), 15-519 % for
# p99 at half the ack-mode maximum (median 106 %) and 7-39 % for CPU µs/msg (median 18 %). Any tighter,
# and a single sample flags noise; these still do now and then: use --repeat on both sides.
DEFAULT_TOLERANCE = {
    "daemonMsgsPerSecond": 0.30,
    "daemonRawRatio": 0.50,
    "p99AckMs": 1.00,
    "daemonCpuMicrosPerMessage": 0.20,
}
# (key, label, higher is better, format)
COMPARED = [
    ("daemonMsgsPerSecond", "daemon msgs/s", True, lambda v: f"{v:,.0f}"),
    ("daemonRawRatio", "daemon/raw", True, lambda v: f"{v:.2f}"),
    ("p99AckMs", "p99 ack ms", False, lambda v: f"{v:.2f}"),
    ("daemonCpuMicrosPerMessage", "daemon CPU µs/msg", False, lambda v: f"{v:.2f}"),
]


def cell_samples(cell):
    """Per-run values of the compared figures; JSON written before --repeat had a single run per cell."""
    if "samples" in cell:
        return cell["samples"]
    d, raw, lat = cell["daemon"], cell["raw"], cell["latency"]
    samples = {
        "daemonMsgsPerSecond": [d["deliveredPerSecond"]],
        "daemonRawRatio": [d["deliveredPerSecond"] / raw["deliveredPerSecond"] if raw["deliveredPerSecond"] else 0.0],
        "p99AckMs": [lat["latencyMs"]["p99"]],
    }
    if "daemonCpuMicrosPerMessage" in cell:
        samples["daemonCpuMicrosPerMessage"] = [cell["daemonCpuMicrosPerMessage"]]
    return samples


def many_samples(many):
    return {"p99AckMs": [many["report"]["latencyMs"]["p99"]],
            "daemonCpuMicrosPerMessage": [many["daemonCpuMicrosPerMessage"]]}


def spread(values, key):
    """Relative spread (max - min) / median of a run's samples, or the default tolerance for a single sample."""
    middle = statistics.median(values)
    if len(values) >= 2 and middle > 0:
        return (max(values) - min(values)) / middle, "measured"
    return DEFAULT_TOLERANCE[key], "default"


def compare_figures(label, base, current):
    """Rows for one matched cell. A figure is WORSE when its median moved the wrong way by more than the
    larger of the two runs' spreads (each run's measured spread with --repeat ≥ 2, else the default)."""
    rows = []
    for key, name, higher_better, fmt in COMPARED:
        if not base.get(key) or not current.get(key):
            continue
        b, c = statistics.median(base[key]), statistics.median(current[key])
        if b == 0:
            continue
        change = (c - b) / b
        (sb, kb), (sc, kc) = spread(base[key], key), spread(current[key], key)
        tolerance = max(sb, sc)
        source = "default" if (sc >= sb and kc == "default") or (sb > sc and kb == "default") else \
            ("this run's spread" if sc >= sb else "baseline's spread")
        worse = change < -tolerance if higher_better else change > tolerance
        better = change > tolerance if higher_better else change < -tolerance
        rows.append({"cell": label, "figure": name, "baseline": fmt(b), "now": fmt(c), "change": change,
                     "tolerance": tolerance, "toleranceSource": source,
                     "verdict": "WORSE" if worse else ("better" if better else "")})
    return rows


def cell_label(chats, connections, size):
    return f"{'1 (global)' if chats == 0 else f'{chats} chats'}, {connections} conn, {size} B"


def compare(baseline, result):
    """Matches cells by (chats, connections, size), and the many-connections cell by connections, rate and size."""
    base_cells = baseline if isinstance(baseline, list) else baseline.get("cells", [])
    index = {(c["chats"], c["connections"], c["size"]): c for c in base_cells}
    rows = []
    for cell in result["cells"]:
        match = index.get((cell["chats"], cell["connections"], cell["size"]))
        if match:
            rows += compare_figures(cell_label(cell["chats"], cell["connections"], cell["size"]),
                                    cell_samples(match), cell_samples(cell))
    base_many = None if isinstance(baseline, list) else baseline.get("manyConnections")
    many = result.get("manyConnections")
    if base_many and many and all(base_many[k] == many[k] for k in ("connections", "rate", "size")):
        rows += compare_figures(f"{many['connections']} conn at {many['rate']:,} msgs/s (acks)",
                                many_samples(base_many), many_samples(many))
    return rows


def print_comparison(rows, baseline, path):
    where = "" if isinstance(baseline, list) else f" (commit {baseline.get('commit', '?')}, {baseline.get('date', '?')})"
    print(f"\nAgainst the baseline {path}{where}: change of the medians; tolerance = the larger run-to-run spread "
          "of the two runs (measured with --repeat ≥ 2, else the default for that figure)")
    print("\n| cell | figure | baseline | now | change | tolerance | |")
    print("|---|---|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['cell']} | {row['figure']} | {row['baseline']} | {row['now']} | {100 * row['change']:+.1f} % "
              f"| ±{100 * row['tolerance']:.0f} % ({row['toleranceSource']}) | {row['verdict']} |")
    worse = [f"{r['cell']}: {r['figure']}" for r in rows if r["verdict"] == "WORSE"]
    if not rows:
        print("\nNo cell of this run matches one of the baseline.")
    elif worse:
        print(f"\nWORSE than the baseline by more than the spread ({len(worse)}): " + "; ".join(worse))
    else:
        print("\nNothing worse than the baseline by more than the run-to-run spread.")


def git_commit():
    try:
        commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip()
        return commit + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def print_matrix(results):
    print("| topics | connections | message | daemon msgs/s | raw msgs/s | daemon/raw | lost | ack-mode max msgs/s | p50 ack ms | p99 ack ms | at msgs/s | daemon CPU % | daemon CPU µs/msg | daemon peak RSS MiB |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        m = r["median"]
        topics = "1 (global)" if r["chats"] == 0 else f"{r['chats']} chats"
        print(f"| {topics} | {r['connections']} | {r['size']} B | {m['daemonMsgsPerSecond']:,.0f} | {m['rawMsgsPerSecond']:,.0f} "
              f"| {m['daemonRawRatio']:.2f} | {r['lost']} | {r['ackMax']['deliveredPerSecond']:,.0f} | {m['p50AckMs']:.2f} | {m['p99AckMs']:.2f} | {r['halfRate']:,} "
              f"| {r['daemonCpuPercent']:.0f} | {r['daemonCpuMicrosPerMessage']:.2f} | {r['daemonPeakRssMiB']:.1f} |")
    repeat = max((r["repeat"] for r in results), default=1)
    if repeat > 1:
        print(f"\nMedians of {repeat} runs per cell (fresh broker and daemon each); the spread, min – max:")
        print("\n| topics | connections | message | daemon msgs/s | raw msgs/s | daemon/raw | p99 ack ms | daemon CPU µs/msg |")
        print("|---|---|---|---|---|---|---|---|")
        for r in results:
            s = r["samples"]
            span = lambda key, fmt: f"{fmt(min(s[key]))} – {fmt(max(s[key]))}"
            topics = "1 (global)" if r["chats"] == 0 else f"{r['chats']} chats"
            print(f"| {topics} | {r['connections']} | {r['size']} B | {span('daemonMsgsPerSecond', lambda v: f'{v:,.0f}')} "
                  f"| {span('rawMsgsPerSecond', lambda v: f'{v:,.0f}')} | {span('daemonRawRatio', lambda v: f'{v:.2f}')} "
                  f"| {span('p99AckMs', lambda v: f'{v:.2f}')} | {span('daemonCpuMicrosPerMessage', lambda v: f'{v:.2f}')} |")


def print_many(many):
    rep, lat = many["report"], many["report"]["latencyMs"]
    print(f"\n{many['connections']:,} connections to /send-message/global with acks, {many['rate']:,} msgs/s in total "
          f"({many['rate'] / many['connections']:g} per connection), {many['size']} B, {many['seconds']:g} s:")
    print("\n| connections | sent | delivered | lost | failed connections | delivered msgs/s | p50 ack ms | p99 ack ms | p99.9 ack ms | max ack ms | daemon CPU % | daemon CPU µs/msg | daemon RSS MiB before → peak | generator CPU % |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    print(f"| {many['connections']:,} | {rep['sent']:,} | {rep['delivered']:,} | {rep['lost']} | {rep['errors']} "
          f"| {rep['deliveredPerSecond']:,.0f} | {lat['p50']:.2f} | {lat['p99']:.2f} | {lat['p999']:.2f} | {lat['max']:.2f} "
          f"| {many['daemonCpuPercent']:.0f} | {many['daemonCpuMicrosPerMessage']:.2f} "
          f"| {many['daemonRssBeforeMiB']:.1f} → {many['daemonPeakRssMiB']:.1f} | {rep['cpuPercent']:.0f} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="one small cell (a smoke run for CI)")
    parser.add_argument("--idle", type=int, default=10000, help="idle connections for the RSS figure (0 = skip)")
    parser.add_argument("--many-connections", type=int, default=10000, metavar="N",
                        help="the many-connections cell after the matrix: N connections with acks (0 = skip; not with --quick)")
    parser.add_argument("--many-rate", type=int, default=20000, metavar="R",
                        help="its total rate in msgs/s over all connections (default 20000)")
    parser.add_argument("--many-seconds", type=float, default=10.0, help="its duration in seconds (default 10)")
    parser.add_argument("--only-many", action="store_true", help="run the many-connections cell alone (no matrix, no idle)")
    parser.add_argument("--repeat", type=int, default=1, metavar="N",
                        help="runs of each cell's full-speed (daemon, raw) and latency measurements; the table shows medians")
    parser.add_argument("--baseline", metavar="F", help="compare with the JSON of an earlier run (flags WORSE beyond the spread)")
    parser.add_argument("--html", metavar="F",
                        help="the HTML report (default Benchmarks/results/bench-DATE-COMMIT.html; '' = none)")
    parser.add_argument("--json", metavar="F", help="the raw results (default: next to the HTML report)")
    options = parser.parse_args()
    if options.repeat < 1:
        parser.error("--repeat must be at least 1")
    baseline = json.load(open(options.baseline)) if options.baseline else None
    raise_fd_limit()

    if options.only_many:
        cells = []
    elif options.quick:
        cells = [(0, 50, 100, 100_000)]
        latency_seconds = 2
    else:
        cells = []
        for chats in (0, 100):
            for connections in (50, 1000):
                for size in (100, 1024):
                    cells.append((chats, connections, size, 1_000_000 if size <= 100 else 300_000))
        latency_seconds = 5

    commit, started = git_commit(), time.strftime("%Y-%m-%d %H:%M:%S")
    result = {
        "version": 2, "commit": commit, "date": started,
        "machine": {"cores": os.cpu_count(), "kernel": os.uname().release},
        "options": {"quick": options.quick, "repeat": options.repeat},
        "cells": [], "manyConnections": None, "idle": None,
    }
    for chats, connections, size, messages in cells:
        log(f"cell: {'global' if chats == 0 else f'{chats} chats'}, {connections} connections, {size} B, {messages} messages"
            + (f", {options.repeat} runs" if options.repeat > 1 else ""))
        result["cells"].append(run_cell(chats, connections, size, messages, latency_seconds, options.repeat))
    if options.many_connections and (options.only_many or not options.quick):
        log(f"cell: {options.many_connections} connections with acks at {options.many_rate} msgs/s for {options.many_seconds:g} s")
        result["manyConnections"] = run_many(options.many_connections, options.many_rate, options.many_seconds)
    if options.idle and not options.quick and not options.only_many:
        before, after, per = idle_rss(options.idle)
        result["idle"] = {"connections": options.idle, "rssBeforeKiB": before, "rssAfterKiB": after, "kibPerConnection": per}

    failed = False
    for r in result["cells"]:
        failed |= r["lost"] != 0 or r["daemonExit"] != 0
    if result["cells"]:
        print_matrix(result["cells"])
    if result["manyConnections"]:
        many = result["manyConnections"]
        failed |= many["lost"] != 0 or many["daemonExit"] != 0
        print_many(many)
    if result["idle"]:
        idle = result["idle"]
        print(f"\nIdle connections: {idle['connections']} open → daemon RSS {idle['rssBeforeKiB'] / 1024:.1f} MiB → "
              f"{idle['rssAfterKiB'] / 1024:.1f} MiB, {idle['kibPerConnection']:.2f} KiB per idle connection")
    print(f"\nMachine: {os.cpu_count()} cores, {os.uname().release}; broker: librdkafka mock cluster (own process, 4 partitions per topic); "
          "daemon, broker and load generator share the machine.")
    result["failed"] = failed
    if baseline is not None:
        result["comparison"] = compare(baseline, result)
        print_comparison(result["comparison"], baseline, options.baseline)

    html_path = options.html
    if html_path is None:
        stamp = time.strftime("%Y%m%d-%H%M%S", time.strptime(started, "%Y-%m-%d %H:%M:%S"))
        html_path = os.path.join(ROOT, "Benchmarks/results", f"bench-{stamp}-{commit}.html")
    json_path = options.json or (os.path.splitext(html_path)[0] + ".json" if html_path else None)
    written = []
    shown = lambda path: path if os.path.relpath(path).startswith("..") else os.path.relpath(path)
    if json_path:
        os.makedirs(os.path.dirname(os.path.abspath(json_path)), exist_ok=True)
        with open(json_path, "w") as file:
            json.dump(result, file, indent=2)
        written.append(f"JSON {shown(json_path)}")
    if html_path:
        os.makedirs(os.path.dirname(os.path.abspath(html_path)), exist_ok=True)
        with open(html_path, "w") as file:
            file.write(bench_report.html(result, baseline_path=options.baseline))
        written.insert(0, f"HTML report {shown(html_path)}")
    if written:
        print("\n" + ", ".join(written))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()

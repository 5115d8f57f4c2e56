#!/usr/bin/env python3
"""The load-test matrix: mock broker, daemon and load generator on this machine, loopback only.

For every cell it starts a fresh mock broker (own process) and a fresh daemon, then measures:
  * daemon: messages/s delivered into Kafka at full speed (lost must be 0),
  * raw: the same messages pushed straight through librdkafka with the daemon's settings (the ceiling),
  * p50/p99 send->ack latency with acks at half of the daemon's full-speed rate,
  * the daemon's CPU time (as % of the full-speed run, and per delivered message) and peak RSS (from /proc).
and prints a Markdown table. `--idle` adds the RSS-per-idle-connection measurement (10 000 connections),
`--many-connections` one cell of 10 000 connections at a fixed total rate with acks (latency, CPU, RSS).
`--json F` writes the results: {"cells": [...], "manyConnections": {...}, "idle": {...}, "commit", "date", ...}.
"""
import argparse, json, os, re, resource, signal, subprocess, sys, time

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


def run_cell(chats, connections, size, messages, latency_seconds):
    shape = ["--connections", str(connections), "--chats", str(chats), "--size", str(size)]

    broker, daemon = fresh_daemon(chats)
    try:
        cpu_before, start = daemon.cpu(), time.time()
        full = generator(["--url", f"ws://127.0.0.1:{daemon.port}", "--bootstrap-servers", broker.bootstrap,
                          "--messages", str(messages), *shape])
        cpu_used, wall = daemon.cpu() - cpu_before, time.time() - start
        peak = daemon.peak_rss_kib()
        code, final = daemon.stop()
    finally:
        broker.stop()

    # Latency is measured with acks, so "the maximum rate" is the one an ack-mode client reaches
    # (acks cost the daemon and the client CPU that a fire-and-forget client does not spend).
    broker, daemon = fresh_daemon(chats)
    try:
        ack_max = generator(["--url", f"ws://127.0.0.1:{daemon.port}", "--bootstrap-servers", broker.bootstrap,
                             "--acks", "--messages", str(messages), *shape])
        daemon.stop()
    finally:
        broker.stop()

    half_rate = max(1000, int(ack_max["deliveredPerSecond"] / 2))
    broker, daemon = fresh_daemon(chats)
    try:
        latency = generator(["--url", f"ws://127.0.0.1:{daemon.port}", "--bootstrap-servers", broker.bootstrap,
                             "--acks", "--rate", str(half_rate), "--duration", str(latency_seconds), *shape])
        latency_code, _ = daemon.stop()
    finally:
        broker.stop()

    broker = Broker(["kafka.chat.global"] if chats == 0 else [f"kafka.chat.room-{i}" for i in range(chats)], partitions=4)
    try:
        raw = generator(["--raw", "--bootstrap-servers", broker.bootstrap, "--chats", str(chats),
                         "--size", str(size), "--messages", str(messages)])
    finally:
        broker.stop()
    return {
        "chats": chats, "connections": connections, "size": size,
        "daemon": full, "raw": raw, "ackMax": ack_max, "latency": latency, "halfRate": half_rate,
        "daemonCpuPercent": 100.0 * cpu_used / wall if wall > 0 else 0.0,
        # CPU time per delivered message: comparable across runs on a shared machine, unlike msgs/s.
        "daemonCpuMicrosPerMessage": 1e6 * cpu_used / full["delivered"] if full.get("delivered") else 0.0,
        "daemonPeakRssMiB": peak / 1024.0, "daemonExit": max(code, latency_code), "daemonFinal": final,
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


def git_commit():
    try:
        commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip()
        return commit + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


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
    parser.add_argument("--json", help="also write the raw results to this file")
    options = parser.parse_args()
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

    results = []
    for chats, connections, size, messages in cells:
        log(f"cell: {'global' if chats == 0 else f'{chats} chats'}, {connections} connections, {size} B, {messages} messages")
        results.append(run_cell(chats, connections, size, messages, latency_seconds))
    many = None
    if options.many_connections and (options.only_many or not options.quick):
        log(f"cell: {options.many_connections} connections with acks at {options.many_rate} msgs/s for {options.many_seconds:g} s")
        many = run_many(options.many_connections, options.many_rate, options.many_seconds)
    idle = None
    if options.idle and not options.quick and not options.only_many:
        before, after, per = idle_rss(options.idle)
        idle = {"connections": options.idle, "rssBeforeKiB": before, "rssAfterKiB": after, "kibPerConnection": per}

    if results:
        print_matrix(results)
    failed = False
    for r in results:
        d, lat = r["daemon"], r["latency"]
        failed |= d["lost"] + lat["lost"] + r["ackMax"]["lost"] != 0 or r["daemonExit"] != 0
    if many:
        failed |= many["lost"] != 0 or many["daemonExit"] != 0
        print_many(many)
    if idle:
        print(f"\nIdle connections: {idle['connections']} open → daemon RSS {idle['rssBeforeKiB'] / 1024:.1f} MiB → "
              f"{idle['rssAfterKiB'] / 1024:.1f} MiB, {idle['kibPerConnection']:.2f} KiB per idle connection")
    print(f"\nMachine: {os.cpu_count()} cores, {os.uname().release}; broker: librdkafka mock cluster (own process, 4 partitions per topic); "
          "daemon, broker and load generator share the machine.")
    if options.json:
        result = {
            "version": 2, "commit": git_commit(), "date": time.strftime("%Y-%m-%d %H:%M:%S"),
            "machine": {"cores": os.cpu_count(), "kernel": os.uname().release},
            "cells": results, "manyConnections": many, "idle": idle, "failed": failed,
        }
        json.dump(result, open(options.json, "w"), indent=2)
    sys.exit(1 if failed else 0)


def print_matrix(results):
    print("| topics | connections | message | daemon msgs/s | raw msgs/s | daemon/raw | lost | ack-mode max msgs/s | p50 ack ms | p99 ack ms | at msgs/s | daemon CPU % | daemon CPU µs/msg | daemon peak RSS MiB |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        d, raw, lat = r["daemon"], r["raw"], r["latency"]
        ratio = d["deliveredPerSecond"] / raw["deliveredPerSecond"] if raw["deliveredPerSecond"] else 0
        lost = d["lost"] + lat["lost"] + r["ackMax"]["lost"]
        topics = "1 (global)" if r["chats"] == 0 else f"{r['chats']} chats"
        print(f"| {topics} | {r['connections']} | {r['size']} B | {d['deliveredPerSecond']:,.0f} | {raw['deliveredPerSecond']:,.0f} "
              f"| {ratio:.2f} | {lost} | {r['ackMax']['deliveredPerSecond']:,.0f} | {lat['latencyMs']['p50']:.2f} | {lat['latencyMs']['p99']:.2f} | {r['halfRate']:,} "
              f"| {r['daemonCpuPercent']:.0f} | {r['daemonCpuMicrosPerMessage']:.2f} | {r['daemonPeakRssMiB']:.1f} |")


if __name__ == "__main__":
    main()

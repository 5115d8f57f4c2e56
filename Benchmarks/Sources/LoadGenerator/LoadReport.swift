/// The result of a run, printed for people or as one JSON object (`--json`) with fixed keys.
struct LoadReport {
    var mode: LoadPlan.Mode
    var connections: Int
    var chats: Int
    var messageBytes: Int
    var sent: Int
    var acked: Int
    var nacked: Int
    /// From the topics' watermarks; nil when no cluster was given to count them.
    var delivered: Int64?
    /// First send → all delivered (or all acked, or the last send, when delivery is not counted).
    var durationSeconds: Double
    /// First send → the last send's bytes handed to the kernel (or accepted by librdkafka).
    var sendSeconds: Double
    var latency: LatencySummary?
    var closeCodes: [UInt16: Int]
    var cpuSeconds: Double
    var errors: Int
    /// Extra human-readable lines (settings, how delivery was counted).
    var notes: [String] = []
    /// What `throughputSeries` counts: "acked" (acks, or the raw producer's delivery reports) or "sent".
    var throughputCounts: String? = nil
    /// Messages per second in every 100 ms of the run (see ThroughputSampler); empty in idle mode.
    var throughputSeries: [(seconds: Double, perSecond: Double)] = []
    /// CPU seconds of the process given with `--cpu-of` over the same span as `durationSeconds`.
    var targetCpuSeconds: Double? = nil

    var lost: Int64? { self.delivered.map { Int64(self.sent) - $0 } }
    var deliveredPerSecond: Double? {
        self.delivered.map { self.durationSeconds > 0 ? Double($0) / self.durationSeconds : 0 }
    }
    var sendPerSecond: Double { self.sendSeconds > 0 ? Double(self.sent) / self.sendSeconds : 0 }
    /// Of one core: 200 means two cores busy.
    var cpuPercent: Double { self.durationSeconds > 0 ? self.cpuSeconds / self.durationSeconds * 100 : 0 }

    var json: String {
        var fields: [(String, String)] = [
            ("mode", "\"\(self.mode.rawValue)\""),
            ("connections", String(self.connections)),
            ("chats", String(self.chats)),
            ("messageBytes", String(self.messageBytes)),
            ("sent", String(self.sent)),
            ("acked", String(self.acked)),
            ("nacked", String(self.nacked)),
            ("delivered", self.delivered.map { String($0) } ?? "null"),
            ("lost", self.lost.map { String($0) } ?? "null"),
            ("durationSeconds", Self.number(self.durationSeconds, 4)),
            ("deliveredPerSecond", self.deliveredPerSecond.map { Self.number($0, 1) } ?? "null"),
            ("sendPerSecond", Self.number(self.sendPerSecond, 1)),
        ]
        if let latency = self.latency {
            let percentiles = [
                ("p50", latency.p50), ("p90", latency.p90), ("p99", latency.p99), ("p999", latency.p999),
                ("max", latency.max),
            ]
            fields.append(
                (
                    "latencyMs",
                    "{" + percentiles.map { "\"\($0.0)\":\(Self.number($0.1, 3))" }.joined(separator: ",") + "}"
                )
            )
        } else {
            fields.append(("latencyMs", "null"))
        }
        let codes = self.closeCodes.sorted { $0.key < $1.key }.map { "\"\($0.key)\":\($0.value)" }
        fields.append(("closeCodes", "{" + codes.joined(separator: ",") + "}"))
        fields.append(("cpuSeconds", Self.number(self.cpuSeconds, 3)))
        fields.append(("cpuPercent", Self.number(self.cpuPercent, 1)))
        fields.append(("errors", String(self.errors)))
        // Keys added later go after the original ones, which keep their names and order.
        fields.append(
            ("throughputIntervalSeconds", Self.number(Double(ThroughputSampler.intervalNanoseconds) / 1e9, 3))
        )
        fields.append(("throughputCounts", self.throughputCounts.map { "\"\($0)\"" } ?? "null"))
        fields.append(
            (
                "throughputSeries",
                "["
                    + self.throughputSeries.map { "[\(Self.number($0.seconds, 3)),\(Self.number($0.perSecond, 1))]" }
                    .joined(separator: ",") + "]"
            )
        )
        fields.append(
            (
                "latencyCurve",
                self.latency.map { latency in
                    "["
                        + latency.curve.map { "[\(Self.number($0.percentile, 2)),\(Self.number($0.milliseconds, 3))]" }
                        .joined(separator: ",") + "]"
                } ?? "null"
            )
        )
        fields.append(("targetCpuSeconds", self.targetCpuSeconds.map { Self.number($0, 3) } ?? "null"))
        return "{" + fields.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}"
    }

    var human: String {
        let f = ProgressLine.fixed
        var lines: [String] = []
        lines.append(
            "mode=\(self.mode.rawValue) connections=\(self.connections) chats=\(self.chats) messageBytes=\(self.messageBytes)"
        )
        lines += self.notes
        if self.mode == .idle {
            lines.append("errors=\(self.errors) held \(f(self.durationSeconds, 3)) s")
            if !self.closeCodes.isEmpty {
                lines.append(
                    "close codes: "
                        + self.closeCodes.sorted { $0.key < $1.key }.map { "\($0.key)×\($0.value)" }.joined(
                            separator: " "
                        )
                )
            }
            lines.append("generator cpu \(f(self.cpuSeconds, 2)) s")
            return lines.joined(separator: "\n")
        }
        var outcome = "sent=\(self.sent) acked=\(self.acked) nacked=\(self.nacked)"
        if let delivered = self.delivered, let lost = self.lost {
            outcome += " delivered=\(delivered) lost=\(lost)"
        } else {
            outcome += " delivered=? (not counted: no --bootstrap-servers)"
        }
        outcome += " errors=\(self.errors)"
        lines.append(outcome)
        lines.append("send phase \(f(self.sendSeconds, 3)) s: \(f(self.sendPerSecond, 0)) msgs/s written")
        if let rate = self.deliveredPerSecond {
            lines.append("first send → all delivered \(f(self.durationSeconds, 3)) s: \(f(rate, 0)) msgs/s delivered")
        } else {
            lines.append("run \(f(self.durationSeconds, 3)) s")
        }
        if let latency = self.latency {
            lines.append(
                "latency ms: p50 \(f(latency.p50, 3))  p90 \(f(latency.p90, 3))  p99 \(f(latency.p99, 3))  "
                    + "p99.9 \(f(latency.p999, 3))  max \(f(latency.max, 3))  (\(latency.count) samples)"
            )
        }
        if !self.closeCodes.isEmpty {
            lines.append(
                "close codes: "
                    + self.closeCodes.sorted { $0.key < $1.key }.map { "\($0.key)×\($0.value)" }.joined(separator: " ")
            )
        }
        lines.append("generator cpu \(f(self.cpuSeconds, 2)) s (\(f(self.cpuPercent, 0))% of one core)")
        if let target = self.targetCpuSeconds {
            let percent = self.durationSeconds > 0 ? target / self.durationSeconds * 100 : 0
            lines.append("--cpu-of process cpu \(f(target, 2)) s (\(f(percent, 0))% of one core)")
        }
        return lines.joined(separator: "\n")
    }

    private static func number(_ value: Double, _ decimals: Int) -> String {
        value.isFinite ? ProgressLine.fixed(value, decimals) : "null"
    }
}

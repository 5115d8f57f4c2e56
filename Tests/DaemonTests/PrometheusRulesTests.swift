import Daemon
import Foundation
import Testing

/// The monitoring examples in `config/`: Prometheus scrape config, alert rules and their unit tests
/// (checked by `promtool`, Debian package `prometheus`, which `scripts/install-deps` installs), the
/// Grafana dashboard, and the production example config (loaded through the real loader).
@Suite("monitoring examples: Prometheus, Grafana, production config")
struct PrometheusRulesTests {
    enum MetricType: String, Sendable {
        case counter, gauge, histogram
    }

    /// Every metric name `/metrics` exposes, the only list of them in the tests. Histograms are listed
    /// by base name (their series are `_bucket`, `_sum` and `_count`).
    ///
    /// The alerts, their unit tests and the dashboard may use only these names; the scrape test of
    /// `/metrics` checks this list against what a running daemon actually serves, so a renamed metric
    /// breaks a test instead of silently emptying a panel or an alert.
    static let knownMetrics: [(name: String, type: MetricType)] = [
        // counters
        ("kcp_connections_opened_total", .counter),
        ("kcp_connections_rejected_total", .counter),  // {reason}
        ("kcp_connections_closed_total", .counter),  // {reason}
        ("kcp_rate_limit_pauses_total", .counter),
        ("kcp_messages_received_total", .counter),
        ("kcp_messages_rejected_total", .counter),  // {reason}
        ("kcp_messages_accepted_total", .counter),
        ("kcp_messages_produced_total", .counter),
        ("kcp_messages_delivered_total", .counter),
        ("kcp_messages_failed_total", .counter),  // {error}
        ("kcp_received_bytes_total", .counter),
        ("kcp_accepted_bytes_total", .counter),
        ("kcp_backpressure_pauses_total", .counter),
        ("kcp_kafka_tx_errors_total", .counter),
        ("kcp_kafka_tx_retries_total", .counter),
        ("kcp_watchdog_pings_total", .counter),
        ("kcp_watchdog_missed_total", .counter),
        ("kcp_config_reloads_total", .counter),  // {result}
        ("process_cpu_seconds_total", .counter),
        // gauges
        ("kcp_config_last_reload_success_timestamp_seconds", .gauge),
        ("kcp_config_last_reload_successful", .gauge),
        ("kcp_config_restart_pending", .gauge),
        ("kcp_connections_active", .gauge),
        ("kcp_connections_paused", .gauge),
        ("kcp_ring_used_bytes", .gauge),
        ("kcp_ring_reserved_bytes", .gauge),
        ("kcp_ring_budget_bytes", .gauge),
        ("kcp_topics_active", .gauge),
        ("kcp_ready", .gauge),
        ("kcp_draining", .gauge),
        ("kcp_kafka_brokers_up", .gauge),
        ("kcp_kafka_queue_messages", .gauge),
        ("kcp_kafka_queue_bytes", .gauge),
        ("kcp_kafka_queue_max_messages", .gauge),
        ("kcp_kafka_queue_max_bytes", .gauge),
        ("kcp_kafka_broker_up", .gauge),  // {broker}
        ("kcp_kafka_broker_rtt_avg_seconds", .gauge),  // {broker}
        ("kcp_kafka_broker_rtt_p99_seconds", .gauge),  // {broker}
        ("kcp_kafka_broker_internal_latency_avg_seconds", .gauge),  // {broker}
        ("kcp_kafka_broker_internal_latency_p99_seconds", .gauge),  // {broker}
        ("kcp_kafka_batch_size_avg_bytes", .gauge),
        ("kcp_kafka_batch_messages_avg", .gauge),
        ("kcp_build_info", .gauge),  // {version}
        ("process_resident_memory_bytes", .gauge),
        ("process_virtual_memory_bytes", .gauge),
        ("process_open_fds", .gauge),
        ("process_max_fds", .gauge),
        ("process_start_time_seconds", .gauge),
        ("process_threads", .gauge),
        // histograms (seconds)
        ("kcp_ack_latency_seconds", .histogram),
        ("kcp_delivery_latency_seconds", .histogram),
    ]

    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    // MARK: - promtool

    @Test("promtool check config config/prometheus/prometheus.yml")
    func scrapeConfig() async throws {
        let (status, output) = try await Self.promtool(["check", "config", "config/prometheus/prometheus.yml"])
        #expect(status == 0 && output.contains("SUCCESS"), "promtool check config failed:\n\(output)")
    }

    @Test("promtool check rules config/prometheus/alerts.yml")
    func alertRules() async throws {
        let (status, output) = try await Self.promtool(["check", "rules", "config/prometheus/alerts.yml"])
        #expect(status == 0 && output.contains("SUCCESS"), "promtool check rules failed:\n\(output)")
    }

    @Test("promtool test rules config/prometheus/alerts.test.yml")
    func alertUnitTests() async throws {
        let (status, output) = try await Self.promtool(["test", "rules", "config/prometheus/alerts.test.yml"])
        #expect(status == 0 && output.contains("SUCCESS"), "promtool test rules failed:\n\(output)")
    }

    @Test("every dashboard query is valid PromQL (as a recording rule for promtool)")
    func dashboardQueriesParse() async throws {
        let queries = try Self.dashboardQueries()
        var rules = "groups:\n  - name: dashboard-queries\n    rules:\n"
        for (index, query) in queries.enumerated() {
            // Grafana's variables, as Grafana would substitute them.
            let expr = query.expr
                .replacingOccurrences(of: "$__rate_interval", with: "1m")
                .replacingOccurrences(of: "$job", with: "kafka-chat-producer")
                .replacingOccurrences(of: "$instance", with: ".*")
            #expect(!expr.contains("$"), "an unsubstituted variable in \(query.panel): \(expr)")
            rules += "      - record: dashboard_query_\(index)\n        expr: |\n"
            rules += expr.split(separator: "\n").map { "          \($0)\n" }.joined()
        }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("kcp-dashboard-\(UUID()).yml")
        try rules.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let (status, output) = try await Self.promtool(["check", "rules", file.path])
        #expect(status == 0, "a dashboard query does not parse:\n\(output)\n\(rules)")
    }

    // MARK: - alert rules

    @Test("every alert has for:, a severity, summary, description and runbook, and a firing and a quiet unit test")
    func alertConventions() throws {
        let text = try Self.read("config/prometheus/alerts.yml")
        let blocks = text.components(separatedBy: "- alert: ").dropFirst()
        #expect(blocks.count >= 10)
        var names: [String] = []
        for block in blocks {
            let name = String(block.prefix { !$0.isNewline })
            names.append(name)
            #expect(block.contains("\n        for: "), "\(name): no for:")
            #expect(block.contains("severity: critical") || block.contains("severity: warning"), "\(name): no severity")
            for annotation in ["summary:", "description:", "runbook:"] {
                #expect(block.contains(annotation), "\(name): no \(annotation)")
            }
        }
        #expect(Set(names).count == names.count, "duplicate alert names: \(names)")

        // In alerts.test.yml each `alertname:` is followed by its `exp_alerts:`; `[]` means "does not fire".
        var firing: Set<String> = []
        var quiet: Set<String> = []
        var current: String?
        for line in try Self.read("config/prometheus/alerts.test.yml").split(separator: "\n") {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("alertname:") {
                current = trimmed.dropFirst("alertname:".count).trimmingCharacters(in: .whitespaces)
            } else if trimmed.hasPrefix("exp_alerts:"), let name = current {
                if trimmed.hasSuffix("[]") { quiet.insert(name) } else { firing.insert(name) }
                current = nil
            }
        }
        for name in names {
            #expect(firing.contains(name), "alerts.test.yml has no case where \(name) fires")
            #expect(quiet.contains(name), "alerts.test.yml has no case where \(name) does not fire")
        }
        #expect(
            firing.union(quiet).subtracting(names).isEmpty,
            "tests for unknown alerts: \(firing.union(quiet).subtracting(names))"
        )
    }

    @Test("alert expressions use only metrics /metrics exposes")
    func alertMetricNames() throws {
        let text = try Self.read("config/prometheus/alerts.yml")
        let expressions = Self.yamlValues(of: "expr", in: text)
        #expect(expressions.count == text.components(separatedBy: "- alert: ").count - 1, "one expr per alert")
        var used: Set<String> = []
        for expression in expressions {
            for name in Self.metricNames(in: expression) {
                #expect(Self.isKnown(name), "alerts.yml uses \(name), which /metrics does not expose: \(expression)")
                used.insert(name)
            }
        }
        #expect(used.contains("kcp_messages_failed_total") && used.contains("kcp_delivery_latency_seconds_bucket"))
        // The unit tests feed series that must exist too.
        for name in Self.metricNames(in: try Self.read("config/prometheus/alerts.test.yml")) {
            #expect(Self.isKnown(name), "alerts.test.yml uses \(name), which /metrics does not expose")
        }
    }

    // MARK: - Grafana

    @Test("the dashboard is valid JSON, uses the datasource variable and only metrics /metrics exposes")
    func dashboard() throws {
        let dashboard = try Self.dashboardJSON()
        let schemaVersion = try #require(dashboard["schemaVersion"] as? Int)
        #expect(schemaVersion >= 36)
        #expect(dashboard["uid"] as? String == "kafka-chat-producer")

        let variables = (dashboard["templating"] as? [String: Any])?["list"] as? [[String: Any]] ?? []
        let datasource = try #require(
            variables.first { $0["name"] as? String == "datasource" },
            "no datasource variable"
        )
        #expect(datasource["type"] as? String == "datasource")
        #expect(datasource["query"] as? String == "prometheus")
        #expect(variables.contains { $0["name"] as? String == "instance" }, "no instance variable")

        let panels = Self.panels(in: dashboard)
        let ids = panels.compactMap { $0["id"] as? Int }
        #expect(ids.count == panels.count && Set(ids).count == ids.count, "panel ids missing or repeated")
        for panel in panels where panel["type"] as? String != "row" {
            let title = panel["title"] as? String ?? "?"
            let uid = (panel["datasource"] as? [String: Any])?["uid"] as? String
            #expect(uid == "${datasource}", "panel \(title) does not use the datasource variable")
            #expect(!((panel["targets"] as? [[String: Any]]) ?? []).isEmpty, "panel \(title) has no query")
        }

        let queries = try Self.dashboardQueries()
        var used: Set<String> = []
        for query in queries {
            let names = Self.metricNames(in: query.expr)
            #expect(!names.isEmpty, "panel \(query.panel) queries no kcp_/process_ metric: \(query.expr)")
            for name in names {
                #expect(
                    Self.isKnown(name),
                    "panel \(query.panel) uses \(name), which /metrics does not expose: \(query.expr)"
                )
                used.insert(Self.baseName(name))
            }
        }
        // Everything /metrics exposes has a panel.
        let missing = Self.knownMetrics.map(\.name).filter { !used.contains($0) }
        #expect(missing.isEmpty, "no dashboard panel shows \(missing)")
    }

    // MARK: - production config

    @Test(
        "config/production.conf loads through the real loader, TLS and SASL set, the password from the environment only"
    )
    func productionConfig() throws {
        let path = Self.root.appendingPathComponent("config/production.conf").path
        let configuration = try ConfigurationLoader.load(
            file: path,
            environment: ["KCP_LIBRDKAFKA_SASL_PASSWORD": "not-a-real-password"],
            overrides: []
        )
        let kafka = configuration.kafkaConfiguration(bootstrapServers: configuration.bootstrapServers ?? "")
        #expect(configuration.bootstrapServers?.isEmpty == false)
        #expect(kafka["security.protocol"] == "SASL_SSL")
        #expect(kafka["sasl.mechanisms"] == "SCRAM-SHA-512")
        #expect(kafka["ssl.ca.location"]?.hasPrefix("/") == true)
        #expect(kafka["sasl.username"] == "chat-producer")
        #expect(kafka["sasl.password"] == "not-a-real-password")
        #expect(kafka["acks"] == "all")
        #expect(kafka["enable.idempotence"] == "true")
        #expect(configuration.testingFaultHooks == false)
        #expect(configuration.embeddedBroker == false)

        // Without the environment it still loads (librdkafka asks for the password only when it connects),
        // and the file itself holds no password.
        let withoutSecret = try ConfigurationLoader.load(file: path, environment: [:], overrides: [])
        #expect(withoutSecret.kafkaConfiguration(bootstrapServers: "x")["sasl.password"] == nil)
    }

    // MARK: - helpers

    static func read(_ relativePath: String) throws -> String {
        try String(contentsOf: self.root.appendingPathComponent(relativePath), encoding: .utf8)
    }

    /// A histogram's series name (`…_bucket`, `…_sum`, `…_count`) → its base name; others unchanged.
    static func baseName(_ name: String) -> String {
        for suffix in ["_bucket", "_sum", "_count"] where name.hasSuffix(suffix) {
            let base = String(name.dropLast(suffix.count))
            if self.knownMetrics.contains(where: { $0.name == base && $0.type == .histogram }) { return base }
        }
        return name
    }

    static func isKnown(_ name: String) -> Bool {
        let base = self.baseName(name)
        guard let metric = self.knownMetrics.first(where: { $0.name == base }) else { return false }
        // A histogram is only ever queried through its series, never by its base name.
        return metric.type != .histogram || base != name
    }

    /// Every identifier starting with `kcp_` or `process_` (whole identifiers only: `my_kcp_x` is not one).
    static func metricNames(in text: String) -> [String] {
        text.matches(of: /[A-Za-z_:][A-Za-z0-9_:]*/).map { String($0.output) }
            .filter { $0.hasPrefix("kcp_") || $0.hasPrefix("process_") }
    }

    /// The values of `key:` in a YAML file: inline (`key: value`) or block scalars (`key: |`, `key: >-`, …).
    /// Enough for the rule files here; not a YAML parser.
    static func yamlValues(of key: String, in text: String) -> [String] {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var values: [String] = []
        var index = 0
        while index < lines.count {
            let line = lines[index]
            let indent = line.prefix { $0 == " " }.count
            let trimmed = line.dropFirst(indent)
            index += 1
            guard trimmed.hasPrefix("\(key):") else { continue }
            let rest = trimmed.dropFirst(key.count + 1).trimmingCharacters(in: .whitespaces)
            guard rest.hasPrefix("|") || rest.hasPrefix(">") else {
                values.append(rest)
                continue
            }
            var block: [String] = []
            while index < lines.count {
                let next = lines[index]
                let nextIndent = next.prefix { $0 == " " }.count
                guard next.trimmingCharacters(in: .whitespaces).isEmpty || nextIndent > indent else { break }
                block.append(next)
                index += 1
            }
            values.append(block.joined(separator: "\n"))
        }
        return values
    }

    static func dashboardJSON() throws -> [String: Any] {
        let data = try Data(contentsOf: self.root.appendingPathComponent("config/grafana/kafka-chat-producer.json"))
        return try #require(
            try JSONSerialization.jsonObject(with: data) as? [String: Any],
            "the dashboard is not a JSON object"
        )
    }

    /// All panels, including those inside collapsed rows.
    static func panels(in container: [String: Any]) -> [[String: Any]] {
        let direct = container["panels"] as? [[String: Any]] ?? []
        return direct.flatMap { [$0] + self.panels(in: $0) }
    }

    static func dashboardQueries() throws -> [(panel: String, expr: String)] {
        var queries: [(panel: String, expr: String)] = []
        for panel in self.panels(in: try self.dashboardJSON()) {
            for target in panel["targets"] as? [[String: Any]] ?? [] {
                if let expr = target["expr"] as? String {
                    queries.append((panel["title"] as? String ?? "?", expr))
                }
            }
        }
        #expect(queries.count >= 20)
        return queries
    }

    /// `promtool` from PATH, run in the repository root. Its absence fails the test with what to install.
    static func promtool(_ arguments: [String]) async throws -> (status: Int32, output: String) {
        let searchPath = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        let found = searchPath.split(separator: ":").map(String.init)
            .map { URL(fileURLWithPath: $0).appendingPathComponent("promtool") }
            .first { FileManager.default.isExecutableFile(atPath: $0.path) }
        let promtool = try #require(
            found,
            "promtool is not installed: `apt-get install prometheus` (Debian), or run scripts/test, which installs it through scripts/install-deps"
        )
        let run = try await ToolRun.run(promtool.path, arguments, directory: self.root)
        return (run.status, "$ promtool \(arguments.joined(separator: " "))\n" + run.output)
    }
}

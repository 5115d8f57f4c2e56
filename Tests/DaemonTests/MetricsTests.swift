import Foundation
import Monitoring
import Testing

extension IntegrationTests {
    @Suite("/metrics and /ready")
    struct Metrics {
        /// Sample lines of a text-format scrape, by series (`name{labels}`), comments dropped.
        static func samples(_ text: String) -> [String: Double] {
            var samples: [String: Double] = [:]
            for line in text.split(separator: "\n") where !line.hasPrefix("#") {
                guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else {
                    continue
                }
                samples[String(line[..<space])] = value
            }
            return samples
        }

        static func scrape(
            _ port: Int
        ) async throws -> (response: TestWebSocketClient.HTTPResponse, samples: [String: Double]) {
            let response = try await onThread {
                try TestWebSocketClient(port: port).handshake(path: "/metrics", headers: [])
            }
            return (response, Self.samples(response.body))
        }

        static func ready(_ port: Int) async throws -> TestWebSocketClient.HTTPResponse {
            try await onThread { try TestWebSocketClient(port: port).handshake(path: "/ready", headers: []) }
        }

        @Test("a scrape counts every outcome and passes promtool check metrics")
        func scrapeCountsOutcomes() async throws {
            let daemon = try await RunningDaemon.start()
            let port = daemon.port
            let chat = uniqueChat("metrics")
            try await onThread {
                let client = try TestWebSocketClient.connect(port: port, path: "/send-message/chat/\(chat)?ack=1")
                try client.sendText(#"{"sender":"ann","text":"hello","tag":"t"}"#)
                #expect(try client.receiveText().contains("\"ack\":1"))
                try client.sendText(#"{"sender":"ann","text":"no tag"}"#)
                #expect(try client.receiveText().contains("missing_field"))
                try client.sendText("not json")
                #expect(try client.receiveText().contains("invalid_json"))
                try client.sendFrame(opcode: 2, payload: [1, 2, 3])
                #expect(try client.receiveText().contains("unsupported_frame"))
                try client.sendClose(code: 1000)
                _ = try client.receiveClose()
                let notFound = try TestWebSocketClient(port: port).handshake(path: "/nope", headers: [])
                #expect(notFound.status == 404)
            }
            // Connection close is counted when the server side has seen it.
            #expect(await eventually { daemon.daemon.activeConnections == 0 })

            let (response, samples) = try await Self.scrape(port)
            #expect(response.status == 200)
            #expect(response.header("Content-Type") == "text/plain; version=0.0.4; charset=utf-8")
            #expect(samples["kcp_messages_received_total"] == 4)
            #expect(samples["kcp_messages_accepted_total"] == 1)
            #expect(samples["kcp_messages_delivered_total"] == 1)
            #expect(samples["kcp_messages_rejected_total{reason=\"missing_field\"}"] == 1)
            #expect(samples["kcp_messages_rejected_total{reason=\"invalid_json\"}"] == 1)
            #expect(samples["kcp_messages_rejected_total{reason=\"unsupported_frame\"}"] == 1)
            #expect(samples["kcp_messages_failed_total{error=\"timed_out\"}"] == 0)
            #expect(samples["kcp_connections_opened_total"] == 1)
            #expect(samples["kcp_connections_active"] == 0)
            #expect(samples["kcp_connections_rejected_total{reason=\"not_found\"}"] == 1)
            #expect(
                samples["kcp_accepted_bytes_total"] == Double(#"{"sender":"ann","text":"hello","tag":"t"}"#.utf8.count)
            )
            #expect(samples["kcp_ack_latency_seconds_count"] == 1)
            #expect(samples["kcp_ack_latency_seconds_bucket{le=\"+Inf\"}"] == 1)
            #expect(samples["kcp_delivery_latency_seconds_count"] == 1)
            #expect(samples["kcp_topics_active"] == 1)
            #expect(samples["kcp_ready"] == 1)
            #expect(samples["kcp_draining"] == 0)
            #expect((samples["process_resident_memory_bytes"] ?? 0) > 1_000_000)
            #expect((samples["process_open_fds"] ?? 0) > 3)
            #expect(samples["kcp_build_info{version=\"\(BuildInfo.version)\"}"] == 1)
            // No label carries a chat name.
            #expect(!response.body.contains(chat))

            // librdkafka statistics arrive once a second.
            #expect(
                try await eventually(seconds: 10) {
                    let samples = try await Self.scrape(port).samples
                    return samples["kcp_kafka_brokers_up"] == 1 && samples["kcp_kafka_queue_max_bytes"] != nil
                }
            )

            // The families a scrape declares are exactly the ones the alert rules and dashboard are checked against.
            let latest = try await Self.scrape(port).response.body
            var declared: [String: String] = [:]
            for line in latest.split(separator: "\n") where line.hasPrefix("# TYPE ") {
                let parts = line.split(separator: " ")
                declared[String(parts[2])] = String(parts[3])
            }
            let known = Dictionary(
                uniqueKeysWithValues: PrometheusRulesTests.knownMetrics.map { ($0.name, $0.type.rawValue) }
            )
            #expect(declared == known)

            let file = FileManager.default.temporaryDirectory.appendingPathComponent("scrape-\(UUID().uuidString).txt")
            try response.body.write(to: file, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(at: file) }
            let check = try await ToolRun.run("sh", ["-c", "promtool check metrics < '\(file.path)'"])
            #expect(check.status == 0, "promtool check metrics:\n\(check.output)")
            try await daemon.stop()
        }

        @Test("counters only grow between scrapes")
        func countersAreMonotonic() async throws {
            let daemon = try await RunningDaemon.start()
            let port = daemon.port
            let first = try await Self.scrape(port).samples
            try await onThread {
                let client = try TestWebSocketClient.connect(port: port, path: "/send-message/global?ack=1")
                for index in 1...5 {
                    try client.sendText(#"{"sender":"s","text":"m\#(index)","tag":"t"}"#)
                    #expect(try client.receiveText().contains("\"ack\":\(index)"))
                }
            }
            let second = try await Self.scrape(port).samples
            for (series, value) in first where series.hasSuffix("_total") {
                #expect((second[series] ?? -1) >= value, "\(series) went from \(value) to \(second[series] ?? -1)")
            }
            #expect(second["kcp_messages_delivered_total"] == (first["kcp_messages_delivered_total"] ?? 0) + 5)
            try await daemon.stop()
        }

        @Test("/ready answers 503 with a reason while no broker is reachable, and 200 again after")
        func readinessFollowsTheBroker() async throws {
            let daemon = try await RunningDaemon.start { $0.brokerCheckSeconds = 0.2 }
            let port = daemon.port
            #expect(try await eventually { try await Self.ready(port).status == 200 })
            let health = try await onThread {
                try TestWebSocketClient(port: port).handshake(path: "/health", headers: [])
            }
            #expect(health.status == 200)

            daemon.broker.setAllBrokers(up: false)
            #expect(try await eventually(seconds: 15) { try await Self.ready(port).status == 503 })
            let down = try await Self.ready(port)
            #expect(down.body.contains("\"code\":\"broker_unreachable\""))
            #expect(down.header("Content-Type") == "application/json")
            // Liveness does not follow the broker: systemd must not restart us for Kafka's sake.
            let stillAlive = try await onThread {
                try TestWebSocketClient(port: port).handshake(path: "/health", headers: [])
            }
            #expect(stillAlive.status == 200)
            #expect(try await Self.scrape(port).samples["kcp_ready"] == 0)

            daemon.broker.setAllBrokers(up: true)
            #expect(try await eventually(seconds: 20) { try await Self.ready(port).status == 200 })
            #expect(try await Self.scrape(port).samples["kcp_ready"] == 1)
            try await daemon.stop()
        }

        @Test("/ready answers 503 once a topic ring passes the high-water mark")
        func readinessFollowsTheBuffers() async throws {
            // A 64 KiB ring, a librdkafka queue of 10 messages and a broker that is down: accepted
            // messages stay in the ring.
            let daemon = try await RunningDaemon.start {
                $0.ringBytes = 64 * 1024
                $0.queueBufferingMaxMessages = 10
                $0.readinessHighWaterPercent = 50
                $0.messageTimeoutMilliseconds = 600_000
            }
            let port = daemon.port
            #expect(try await eventually { try await Self.ready(port).status == 200 })
            daemon.broker.setAllBrokers(up: false)
            let text = String(repeating: "x", count: 1000)
            try await onThread {
                let client = try TestWebSocketClient.connect(port: port, path: "/send-message/global")
                for _ in 0..<200 { try client.sendText(#"{"sender":"s","text":"\#(text)","tag":"t"}"#) }
            }
            #expect(
                try await eventually(seconds: 15) {
                    try await Self.ready(port).body.contains("\"code\":\"buffers_full\"")
                }
            )
            daemon.broker.setAllBrokers(up: true)
            #expect(try await eventually(seconds: 30) { try await Self.ready(port).status == 200 })
            try await daemon.stop()
            #expect(daemon.counters.delivered == daemon.counters.accepted)
        }
    }
}

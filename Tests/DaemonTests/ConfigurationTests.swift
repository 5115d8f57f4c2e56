import Daemon
import Foundation
import Ingest
import Testing

@Suite("configuration")
struct ConfigurationTests {
    static let bootstrap: [(key: String, value: String)] = [("kafka.bootstrap_servers", "127.0.0.1:9092")]

    @Test("lossless Kafka defaults")
    func defaults() throws {
        let configuration = try ConfigurationLoader.load(file: nil, environment: [:], overrides: Self.bootstrap)
        let kafka = configuration.kafkaConfiguration(bootstrapServers: "b:1")
        #expect(kafka["acks"] == "all")
        #expect(kafka["enable.idempotence"] == "true")
        #expect(kafka["compression.type"] == "lz4")
        #expect(kafka["linger.ms"] == "5")
        #expect(kafka["message.timeout.ms"] == "300000")
        #expect(kafka["queue.buffering.max.kbytes"] == "65536")
        #expect(configuration.recordKey == .none)
    }

    @Test("--print-config hides credentials")
    func printConfigHidesSecrets() throws {
        let configuration = try ConfigurationLoader.load(
            file: nil,
            environment: ["KCP_LIBRDKAFKA_SASL_PASSWORD": "hunter2-secret"],
            overrides: Self.bootstrap + [
                ("librdkafka.sasl.username", "svc-chat"), ("librdkafka.ssl.key.password", "k3y"),
            ]
        )
        let text = ConfigurationLoader.render(configuration)
        #expect(text.contains("librdkafka.sasl.username = svc-chat"))
        #expect(text.contains("librdkafka.sasl.password = (hidden: 14 characters)"))
        #expect(!text.contains("hunter2-secret"))
        #expect(!text.contains("k3y"))
        #expect(text.contains("kafka.statistics_interval_ms = 1000"))
    }

    @Test("file < environment < command line; librdkafka passthrough from all three")
    func precedence() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("kcp-\(UUID()).conf")
        try """
        # comment
        listen.port = 9001
        kafka.linger_ms = 20
        buffer.ring_bytes = 2m
        librdkafka.socket.keepalive.enable = "true"
        kafka.bootstrap_servers = file:9092
        """.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let configuration = try ConfigurationLoader.load(
            file: file.path,
            environment: [
                "KCP_LISTEN_PORT": "9002", "KCP_KAFKA_RECORD_KEY": "chat",
                "KCP_LIBRDKAFKA_STATISTICS_INTERVAL_MS": "1000", "KCP_LIBRDKAFKA_LOG__LEVEL": "4",
            ],
            overrides: [("listen.port", "9003")]
        )
        #expect(configuration.listenPort == 9003)
        #expect(configuration.lingerMilliseconds == 20)
        #expect(configuration.ringBytes == 2 << 20)
        #expect(configuration.recordKey == .chat)
        #expect(configuration.bootstrapServers == "file:9092")
        let kafka = configuration.kafkaConfiguration(bootstrapServers: "x")
        #expect(kafka["socket.keepalive.enable"] == "true")
        #expect(kafka["statistics.interval.ms"] == "1000")
        #expect(kafka["log_level"] == "4")
    }

    @Test("bad values name the key and where they came from")
    func errors() throws {
        #expect(throws: ConfigurationError.self) {
            try ConfigurationLoader.load(file: nil, environment: [:], overrides: [])
        }
        do {
            _ = try ConfigurationLoader.load(
                file: nil,
                environment: ["KCP_WEBSOCKET_MAX_FRAGMENTS": "many"],
                overrides: Self.bootstrap
            )
            Issue.record("expected an error")
        } catch {
            #expect(error.key == "websocket.max_fragments")
            #expect(error.source == "environment KCP_WEBSOCKET_MAX_FRAGMENTS")
        }
        do {
            _ = try ConfigurationLoader.load(
                file: nil,
                environment: [:],
                overrides: Self.bootstrap + [("websocket.max_message_bytes", "4m"), ("buffer.ring_bytes", "1m")]
            )
            Issue.record("expected an error")
        } catch {
            #expect(error.key == "websocket.max_message_bytes")
        }
        do {
            _ = try ConfigurationLoader.load(
                file: nil,
                environment: [:],
                overrides: Self.bootstrap + [("kafka.compression", "brotli")]
            )
            Issue.record("expected an error")
        } catch {
            #expect(error.key == "kafka.compression")
        }
        do {
            _ = try ConfigurationLoader.load(
                file: nil,
                environment: [:],
                overrides: Self.bootstrap + [("embedded_broker", "true")]
            )
            Issue.record("expected an error")
        } catch {
            #expect(error.key == "embedded_broker")
        }
        for name in ["message id", "id\u{7}", String(repeating: "h", count: 256), "idé"] {
            do {
                _ = try ConfigurationLoader.load(
                    file: nil,
                    environment: [:],
                    overrides: Self.bootstrap + [("kafka.message_id_header", name)]
                )
                Issue.record("expected an error for \(name)")
            } catch {
                #expect(error.key == "kafka.message_id_header")
                #expect(error.message.contains("not a header name"))
            }
        }
        let withHeader = try ConfigurationLoader.load(
            file: nil,
            environment: [:],
            overrides: Self.bootstrap + [("kafka.message_id_header", "kcp-message-id")]
        )
        #expect(withHeader.messageIDHeader == "kcp-message-id")
        #expect(DaemonConfiguration().messageIDHeader.isEmpty)
    }

    @Test("config/kafka-chat-producer.conf documents every key with its default")
    func documentedFile() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let text = try String(
            contentsOf: root.appendingPathComponent("config/kafka-chat-producer.conf"),
            encoding: .utf8
        )
        let defaults = DaemonConfiguration()
        for key in ConfigurationKeys.all {
            let line = "\(key.name) = \(key.value(in: defaults))"
            #expect(text.contains("\n# \(line)\n") || text.contains("\n\(line)\n"), "missing or stale: \(line)")
        }
    }
}

import Testing

@testable import Daemon
@testable import Gateway

/// The `limits.*`, `topics.*` and idle/ping keys: defaults, parsing, and the errors that name the key.
@Suite("limits: configuration")
struct LimitsConfigurationTests {
    static let bootstrap = [(key: "kafka.bootstrap_servers", value: "b:1")]

    static func load(_ settings: [(key: String, value: String)]) throws(ConfigurationError) -> DaemonConfiguration {
        try ConfigurationLoader.load(file: nil, environment: [:], overrides: Self.bootstrap + settings)
    }

    @Test("defaults: generous limits on, rate limits and the overload close off")
    func defaults() throws {
        let limits = try Self.load([]).gatewayLimits
        #expect(limits.maxConnections == 100_000)
        #expect(limits.maxConnectionsPerIP == 1000)
        #expect(limits.messagesPerSecond == 0 && limits.bytesPerSecond == 0)
        #expect(limits.burstSeconds == 1)
        #expect(limits.rateViolationClose == .seconds(10))
        #expect(limits.handshakeTimeout == .seconds(10))
        #expect(limits.idleTimeout == .seconds(120))
        #expect(limits.pingInterval == .seconds(30))
        #expect(limits.overloadClose == .zero)
        #expect(limits.chats.acceptsEveryLegalName)
        #expect(!limits.requireExistingTopics)
        #expect(limits.topicListTTL == .seconds(10))
        #expect(try Self.load([]).maxTopics == 10_000)
    }

    @Test("every key is read from text, the environment included")
    func parsing() throws {
        let configuration = try ConfigurationLoader.load(
            file: nil,
            environment: ["KCP_LIMITS_MESSAGES_PER_SECOND": "250", "KCP_TOPICS_REQUIRE_EXISTING": "true"],
            overrides: Self.bootstrap + [
                ("limits.max_connections", "5000"), ("limits.max_connections_per_ip", "0"),
                ("limits.bytes_per_second", "1m"),
                ("limits.burst_seconds", "0.5"), ("limits.rate_violation_close_seconds", "0"),
                ("limits.handshake_timeout_seconds", "2.5"),
                ("limits.overload_close_seconds", "60"), ("websocket.idle_timeout_seconds", "90"),
                ("websocket.ping_interval_seconds", "20"),
                ("topics.chat_pattern", "[a-z0-9-]{1,32}"), ("topics.allowed_chats", " lobby, ops-1 ,"),
                ("topics.max_topics", "50"),
                ("topics.existence_cache_seconds", "3"),
            ]
        )
        let limits = configuration.gatewayLimits
        #expect(limits.maxConnections == 5000 && limits.maxConnectionsPerIP == 0)
        #expect(limits.messagesPerSecond == 250 && limits.bytesPerSecond == 1 << 20)
        #expect(limits.burstSeconds == 0.5 && limits.rateViolationClose == .zero)
        #expect(limits.handshakeTimeout == .milliseconds(2500) && limits.overloadClose == .seconds(60))
        #expect(limits.idleTimeout == .seconds(90) && limits.pingInterval == .seconds(20))
        #expect(limits.chats.pattern == "[a-z0-9-]{1,32}" && limits.chats.allowedChats == ["lobby", "ops-1"])
        #expect(configuration.allowedChats == "lobby,ops-1")
        #expect(limits.requireExistingTopics && limits.topicListTTL == .seconds(3))
        #expect(configuration.maxTopics == 50)
    }

    @Test(
        "bad values name their key",
        arguments: [
            ("topics.chat_pattern", "[unclosed", "topics.chat_pattern"),
            ("topics.allowed_chats", "ok,not ok", "topics.allowed_chats"),
            ("limits.burst_seconds", "0", "limits.burst_seconds"),
            ("limits.max_connections", "-1", "limits.max_connections"),
            ("websocket.ping_interval_seconds", "120", "websocket.ping_interval_seconds"),
        ]
    )
    func errors(key: String, value: String, named: String) {
        do {
            _ = try Self.load([(key, value)])
            Issue.record("\(key) = \(value) was accepted")
        } catch {
            #expect(error.key == named)
        }
    }

    @Test("pings may be off while the idle timeout is on, and the other way round")
    func pingsWithoutIdle() throws {
        #expect(try Self.load([("websocket.ping_interval_seconds", "0")]).gatewayLimits.pingInterval == .zero)
        let noIdle = try Self.load([
            ("websocket.idle_timeout_seconds", "0"), ("websocket.ping_interval_seconds", "300"),
        ])
        #expect(noIdle.gatewayLimits.idleTimeout == .zero && noIdle.gatewayLimits.pingInterval == .seconds(300))
    }
}

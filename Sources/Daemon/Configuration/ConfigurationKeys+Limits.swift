import ChatContract
import Foundation
import Gateway
import Ingest

extension ConfigurationKeys {
    /// The `limits.*` keys: connection counts, rates, handshake and overload timeouts.
    static var limitsKeys: [ConfigurationKey] {
        [
            .integer(
                "limits.max_connections",
                \.maxConnections,
                0...(1 << 24),
                "WebSocket connections held at once (upgraded or being upgraded); beyond it handshakes get 503 too_many_connections. 0 = no limit."
            ),
            .integer(
                "limits.max_connections_per_ip",
                \.maxConnectionsPerIP,
                0...(1 << 24),
                "The same per client address (IPv6: per /64); beyond it handshakes get 429 too_many_connections_per_ip. 0 = no limit."
            ),
            .integer(
                "limits.messages_per_second",
                \.messagesPerSecond,
                0...(1 << 30),
                "Messages one connection may send per second on average; faster clients are not read (backpressure). 0 = no limit."
            ),
            .integer(
                "limits.bytes_per_second",
                \.bytesPerSecond,
                0...(1 << 40),
                "Message payload bytes one connection may send per second on average (64k, 1m…); as above. 0 = no limit."
            ),
            .seconds(
                "limits.burst_seconds",
                \.burstSeconds,
                0.01...3600,
                "Bursts above the rates that pass unthrottled, in seconds of rate (the token buckets' size)."
            ),
            .seconds(
                "limits.rate_violation_close_seconds",
                \.rateViolationCloseSeconds,
                0...86_400,
                "A connection throttled continuously this long (its buckets never refill) is closed with 1008. 0 = never close, only throttle."
            ),
            .seconds(
                "limits.handshake_timeout_seconds",
                \.handshakeTimeoutSeconds,
                0...3600,
                "Time a TCP connection gets to send a request the server answers (slowloris); then 408 and close. 0 = no limit."
            ),
            .seconds(
                "limits.overload_close_seconds",
                \.overloadCloseSeconds,
                0...86_400,
                "A connection blocked by Kafka backpressure without any progress this long is closed with 1013 (try again later). 0 = never."
            ),
        ]
    }

    /// The `topics.*` keys: which chats are accepted.
    static var topicsKeys: [ConfigurationKey] {
        [
            ConfigurationKey(
                name: "topics.chat_pattern",
                summary: "Regular expression a chat name must match completely; others get 403 chat_not_allowed.",
                render: { $0.chatPattern }
            ) { configuration, text throws(ConfigurationError) in
                guard !text.isEmpty else {
                    throw ConfigurationError(key: "topics.chat_pattern", message: "must not be empty")
                }
                do {
                    _ = try ChatPolicy(pattern: text)
                } catch {
                    throw ConfigurationError(
                        key: "topics.chat_pattern",
                        message: "\"\(text)\" is not a regular expression: \(error)"
                    )
                }
                configuration.chatPattern = text
            },
            ConfigurationKey(
                name: "topics.allowed_chats",
                summary: "Comma-separated chat names that may be used; others get 403 chat_not_allowed. Empty = any.",
                render: { $0.allowedChats }
            ) { configuration, text throws(ConfigurationError) in
                for chat in DaemonConfiguration.chatList(text) {
                    do throws(TopicNameError) {
                        _ = try TopicName.forChat(Substring(chat))
                    } catch {
                        throw ConfigurationError(key: "topics.allowed_chats", message: error.message)
                    }
                }
                configuration.allowedChats = DaemonConfiguration.chatList(text).joined(separator: ",")
            },
            .integer(
                "topics.max_topics",
                \.maxTopics,
                0...(1 << 20),
                "Chats (topics) with a buffer at once; a new chat beyond it gets 503 too_many_topics. 0 = only buffer.budget_bytes limits them."
            ),
            .boolean(
                "topics.require_existing",
                \.requireExistingTopics,
                "Accept only chats whose topic already exists in the cluster; others get 404 unknown_chat (no topic is ever auto-created)."
            ),
            .seconds(
                "topics.existence_cache_seconds",
                \.topicExistenceCacheSeconds,
                0...86_400,
                "How long the cluster's topic list is reused by topics.require_existing before it is fetched again."
            ),
        ]
    }

    /// Checks between the limit keys.
    static func validateLimits(_ configuration: DaemonConfiguration) throws(ConfigurationError) {
        if configuration.idleTimeoutSeconds > 0, configuration.pingIntervalSeconds > 0,
            configuration.pingIntervalSeconds >= configuration.idleTimeoutSeconds
        {
            throw ConfigurationError(
                key: "websocket.ping_interval_seconds",
                message:
                    "must be shorter than websocket.idle_timeout_seconds (\(ConfigurationKey.formatSeconds(configuration.idleTimeoutSeconds))), or pings cannot keep idle clients alive"
            )
        }
    }
}

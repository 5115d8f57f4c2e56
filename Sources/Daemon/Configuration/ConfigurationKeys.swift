import Access
import Ingest
import Logging

/// Every configuration key the daemon knows, in the order the documented config file lists them.
public enum ConfigurationKeys {
    /// Keys starting with this prefix are librdkafka properties, passed through verbatim.
    public static let librdkafkaPrefix = "librdkafka."

    public static var all: [ConfigurationKey] {
        [
            .string(
                "listen.host",
                \.listenHost,
                "Address the WebSocket/HTTP listener binds (ignored under socket activation)."
            ),
            .integer("listen.port", \.listenPort, 0...65535, "TCP port of the listener; 0 lets the kernel choose."),
            .integer("listen.event_loops", \.eventLoops, 0...127, "Event loop threads; 0 = one per core."),

            .text(
                "http.allowed_origins",
                \.allowedOrigins,
                check: { text throws(AccessSetupError) in _ = try OriginPolicy.parse(text, requireOrigin: false) },
                "Origins (scheme://host[:port], comma-separated) whose web pages may open a WebSocket; * = any. Others get 403 origin_not_allowed."
            ),
            .boolean(
                "http.require_origin",
                \.requireOrigin,
                "Refuse handshakes without an Origin header (non-browser clients send none)."
            ),
            .boolean(
                "http.docs",
                \.serveDocs,
                "Serve the API page /docs (with its console and the JavaScript client it uses) and /asyncapi.json; off: they answer 404."
            ),
            .text(
                "http.trusted_proxies",
                \.trustedProxies,
                check: { text throws(AccessSetupError) in _ = try TrustedProxies.parse(text) },
                "Reverse proxies (IPs or CIDR blocks, comma-separated) whose X-Forwarded-For names the client for logs and per-IP limits; empty = none."
            ),

            .text(
                "auth.tokens_file",
                \.authTokensFile,
                "Bearer tokens, one per line: TOKEN [chat,chat|*] (or sha256:HEX instead of TOKEN). Setting it (or a JWT key) makes a token required."
            ),
            .text(
                "auth.jwt_hs256_secret_file",
                \.jwtHS256SecretFile,
                "File holding the HS256 secret (>= 32 bytes) that JWTs may be signed with."
            ),
            .text(
                "auth.jwt_rs256_public_key_file",
                \.jwtRS256PublicKeyFile,
                "PEM RSA public key (>= 2048 bits) that JWTs may be signed with (RS256)."
            ),
            .text("auth.jwt_audience", \.jwtAudience, "Required aud of JWTs; must be set with a JWT key."),
            .text("auth.jwt_issuer", \.jwtIssuer, "Required iss of JWTs; empty = any issuer."),
            .seconds(
                "auth.jwt_leeway_seconds",
                \.jwtLeewaySeconds,
                0...300,
                "Clock skew tolerated when checking a JWT's exp and nbf."
            ),

            .integer(
                "websocket.max_message_bytes",
                \.maxMessageBytes,
                64...(16 << 20),
                "Largest text message after reassembly; bigger closes the connection with 1009."
            ),
            .integer(
                "websocket.max_fragments",
                \.maxFragments,
                1...65536,
                "Most frames one message may be split into; more closes with 1009."
            ),
            .integer(
                "websocket.max_acks_in_flight",
                \.maxAcksInFlight,
                1...(1 << 20),
                "Ack-mode messages a connection may have awaiting delivery before it stops reading."
            ),
            .seconds(
                "websocket.close_timeout_seconds",
                \.closeTimeoutSeconds,
                0...600,
                "How long a client may take to answer our close frame."
            ),
            .seconds(
                "websocket.idle_timeout_seconds",
                \.idleTimeoutSeconds,
                0...86_400,
                "A client that sends nothing (no message, no pong) this long is closed with 1001. 0 = never."
            ),
            .seconds(
                "websocket.ping_interval_seconds",
                \.pingIntervalSeconds,
                0...86_400,
                "A client silent this long gets a ping, again every interval, so healthy idle clients answer and stay. 0 = no pings."
            ),

            .integer(
                "buffer.ring_bytes",
                \.ringBytes,
                4096...(1 << 30),
                "Capacity of each topic's ring (a power of two); reserved from the budget when the ring is created."
            ),
            .integer(
                "buffer.budget_bytes",
                \.budgetBytes,
                4096...(1 << 40),
                "Memory all topic rings together may use; a new chat beyond it gets HTTP 503."
            ),
            .seconds(
                "buffer.idle_ring_seconds",
                \.idleRingSeconds,
                0...86_400,
                "A ring with no connection, empty this long, is freed."
            ),
        ] + Self.limitsKeys + Self.topicsKeys + [

            ConfigurationKey(
                name: "kafka.bootstrap_servers",
                summary: "Kafka brokers, host:port[,host:port…]. Required unless --embedded-broker.",
                render: { $0.bootstrapServers ?? "" }
            ) { configuration, text throws(ConfigurationError) in
                configuration.bootstrapServers = text.isEmpty ? nil : text
            },
            .string(
                "kafka.acks",
                \.acks,
                allowed: ["all", "-1", "1", "0"],
                "Broker acknowledgement level; \"all\" is needed for no loss."
            ),
            .boolean(
                "kafka.enable_idempotence",
                \.enableIdempotence,
                "Idempotent producer: retries never duplicate or reorder within a partition."
            ),
            .string(
                "kafka.compression",
                \.compression,
                allowed: ["lz4", "zstd", "snappy", "gzip", "none"],
                "Batch compression codec."
            ),
            .integer(
                "kafka.linger_ms",
                \.lingerMilliseconds,
                0...900_000,
                "How long librdkafka waits to fill a batch."
            ),
            .integer(
                "kafka.message_timeout_ms",
                \.messageTimeoutMilliseconds,
                0...2_147_483_647,
                "Time a message may take to be delivered before it is failed (nacked)."
            ),
            .integer(
                "kafka.queue_buffering_max_kbytes",
                \.queueBufferingMaxKilobytes,
                1...2_147_483_647,
                "librdkafka's queue limit in KiB; beyond it the rings hold messages (backpressure)."
            ),
            .integer(
                "kafka.queue_buffering_max_messages",
                \.queueBufferingMaxMessages,
                1...2_147_483_647,
                "librdkafka's queue limit in messages."
            ),
            .string("kafka.client_id", \.clientID, "client.id shown to the brokers."),
            .integer(
                "kafka.statistics_interval_ms",
                \.statisticsIntervalMilliseconds,
                0...86_400_000,
                "How often librdkafka reports statistics (queue, broker rtt, batches) for /metrics and /ready; 0 = off."
            ),
            ConfigurationKey(
                name: "kafka.record_key",
                summary: "Record key: none, sender (per-sender order) or chat (per-chat order).",
                render: { $0.recordKey.rawValue }
            ) { configuration, text throws(ConfigurationError) in
                guard let policy = RecordKeyPolicy(rawValue: text) else {
                    throw ConfigurationError(
                        key: "kafka.record_key",
                        message: "\"\(text)\" is not one of none, sender, chat"
                    )
                }
                configuration.recordKey = policy
            },
            ConfigurationKey(
                name: "kafka.message_id_header",
                summary:
                    "Kafka record header that carries each message's id (for consumers to drop resent duplicates); empty = none.",
                render: { $0.messageIDHeader }
            ) { configuration, text throws(ConfigurationError) in
                // Printable ASCII without spaces: a header name consumers type and grep for.
                guard text.utf8.count <= 255, text.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
                    throw ConfigurationError(
                        key: "kafka.message_id_header",
                        message:
                            "\"\(text)\" is not a header name: use at most 255 printable ASCII characters without spaces"
                    )
                }
                configuration.messageIDHeader = text
            },

            .integer(
                "ready.high_water_percent",
                \.readinessHighWaterPercent,
                1...100,
                "Fill of the topic rings or of librdkafka's queue at which GET /ready answers 503."
            ),
            .seconds(
                "ready.broker_check_seconds",
                \.brokerCheckSeconds,
                0.1...600,
                "How often /ready's broker check runs (a metadata request when no broker connection is up)."
            ),

            .seconds(
                "shutdown.drain_timeout_seconds",
                \.drainTimeoutSeconds,
                0...3600,
                "On SIGTERM: time to deliver what was accepted before the rest is failed and reported."
            ),

            .boolean(
                "embedded_broker",
                \.embeddedBroker,
                "Start librdkafka's in-memory mock cluster and publish to it (trials only: messages are not kept)."
            ),
            .integer("embedded_broker.brokers", \.embeddedBrokerCount, 1...9, "Brokers in the embedded mock cluster."),

            .boolean(
                "testing.fault_hooks",
                \.testingFaultHooks,
                "Test-only: SIGUSR2 stalls the producer thread (to test the watchdog). Never in production."
            ),

            ConfigurationKey(
                name: "log.level",
                summary: "trace, debug, info, notice, warning, error or critical.",
                render: { $0.logLevel.rawValue }
            ) { configuration, text throws(ConfigurationError) in
                guard let level = Logger.Level(rawValue: text.lowercased()) else {
                    throw ConfigurationError(key: "log.level", message: "\"\(text)\" is not a log level")
                }
                configuration.logLevel = level
            },
        ]
    }

    public static func key(named name: String) -> ConfigurationKey? {
        self.all.first { $0.name == name }
    }
}

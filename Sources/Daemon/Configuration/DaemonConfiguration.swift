import Gateway
import Ingest
import Kafka
import Logging

/// The daemon's whole configuration, with the defaults a lossless production daemon should run with.
///
/// Every field has a key in `ConfigurationKeys` (file, environment and `--set`), documented in
/// `config/kafka-chat-producer.conf`; a test keeps that file and this table in step.
public struct DaemonConfiguration: Sendable {
    // listen
    public var listenHost = "0.0.0.0"
    public var listenPort = 8000
    /// 0 = one event loop per core.
    public var eventLoops = 0

    // http: what the handshake believes about browsers and proxies
    /// `*` (any) or the comma-separated origins whose pages may open a WebSocket.
    public var allowedOrigins = "*"
    /// Refuse handshakes without an `Origin` header (only browsers send one).
    public var requireOrigin = false
    /// Comma-separated addresses or CIDR blocks whose `X-Forwarded-For` is believed; empty: none.
    public var trustedProxies = ""
    /// Serve `/docs`, `/asyncapi.json` and the old documentation paths' redirects.
    public var serveDocs = true

    // auth: off unless a tokens file or a JWT key is set
    public var authTokensFile = ""
    public var jwtHS256SecretFile = ""
    public var jwtRS256PublicKeyFile = ""
    public var jwtAudience = ""
    public var jwtIssuer = ""
    public var jwtLeewaySeconds = 30.0

    // websocket
    public var maxMessageBytes = 64 * 1024
    public var maxFragments = 128
    public var maxAcksInFlight = 4096
    public var closeTimeoutSeconds = 2.0
    /// Silent this long (no data, no pong) → closed with 1001; 0 = never.
    public var idleTimeoutSeconds = 120.0
    /// Silent this long → the server pings (again every interval); 0 = no pings.
    public var pingIntervalSeconds = 30.0

    // buffers
    public var ringBytes = 1 << 20
    public var budgetBytes = 256 << 20
    public var idleRingSeconds = 60.0

    // limits (0 = off); see GatewayLimits
    public var maxConnections = 100_000
    public var maxConnectionsPerIP = 1000
    public var messagesPerSecond = 0
    public var bytesPerSecond = 0
    public var burstSeconds = 1.0
    public var rateViolationCloseSeconds = 10.0
    public var handshakeTimeoutSeconds = 10.0
    public var overloadCloseSeconds = 0.0

    // topics
    public var chatPattern = ChatPolicy.defaultPattern
    /// Comma-separated; empty = any chat.
    public var allowedChats = ""
    public var maxTopics = 10_000
    public var requireExistingTopics = false
    public var topicExistenceCacheSeconds = 10.0

    // kafka
    public var bootstrapServers: String?
    public var acks = "all"
    public var enableIdempotence = true
    public var compression = "lz4"
    public var lingerMilliseconds = 5
    public var messageTimeoutMilliseconds = 300_000
    public var queueBufferingMaxKilobytes = 65_536
    public var queueBufferingMaxMessages = 100_000
    public var clientID = "kafka-chat-producer"
    /// librdkafka statistics for /metrics and /ready; 0 turns them off.
    public var statisticsIntervalMilliseconds = 1000
    public var recordKey = RecordKeyPolicy.none
    /// `kafka.message_id_header`: the Kafka header that carries each message's `id`; empty = none.
    public var messageIDHeader = ""
    /// Any librdkafka property, passed through verbatim after the typed ones (so it can override them).
    public var librdkafka: [(String, String)] = []

    // readiness
    /// Fill (percent) of the topic rings or librdkafka's queue at which /ready answers 503.
    public var readinessHighWaterPercent = 80
    public var brokerCheckSeconds = 1.0

    // lifecycle
    public var drainTimeoutSeconds = 30.0

    // embedded broker (first runs and demos only)
    public var embeddedBroker = false
    public var embeddedBrokerCount = 1

    public var logLevel = Logger.Level.info

    /// Test-only fault hooks (SIGUSR2 stalls the producer thread). Never enable in production.
    public var testingFaultHooks = false

    public init() {}

    /// The librdkafka properties set by typed keys, each with the configuration key that sets it (so a
    /// value librdkafka refuses can be reported under the key the operator wrote).
    func typedKafkaProperties(bootstrapServers: String) -> [(property: String, key: String, value: String)] {
        [
            ("bootstrap.servers", "kafka.bootstrap_servers", bootstrapServers),
            ("client.id", "kafka.client_id", self.clientID),
            ("acks", "kafka.acks", self.acks),
            ("enable.idempotence", "kafka.enable_idempotence", self.enableIdempotence ? "true" : "false"),
            ("compression.type", "kafka.compression", self.compression),
            ("linger.ms", "kafka.linger_ms", String(self.lingerMilliseconds)),
            ("message.timeout.ms", "kafka.message_timeout_ms", String(self.messageTimeoutMilliseconds)),
            ("queue.buffering.max.kbytes", "kafka.queue_buffering_max_kbytes", String(self.queueBufferingMaxKilobytes)),
            (
                "queue.buffering.max.messages", "kafka.queue_buffering_max_messages",
                String(self.queueBufferingMaxMessages)
            ),
            ("statistics.interval.ms", "kafka.statistics_interval_ms", String(self.statisticsIntervalMilliseconds)),
        ]
    }

    /// The librdkafka properties: typed defaults, then passthrough.
    public func kafkaConfiguration(bootstrapServers: String) -> KafkaConfiguration {
        var configuration = KafkaConfiguration(
            self.typedKafkaProperties(bootstrapServers: bootstrapServers).map { ($0.property, $0.value) }
        )
        for (name, value) in self.librdkafka { configuration.set(name, value) }
        return configuration
    }

    var gateway: GatewayConfiguration {
        var gateway = GatewayConfiguration(
            host: self.listenHost,
            port: self.listenPort,
            maxMessageBytes: self.maxMessageBytes,
            maxFragments: self.maxFragments,
            maxAcksInFlight: self.maxAcksInFlight,
            keyPolicy: self.recordKey,
            drainTimeout: .milliseconds(Int64(self.drainTimeoutSeconds * 1000)),
            closeTimeout: .milliseconds(Int64(self.closeTimeoutSeconds * 1000))
        )
        gateway.limits = self.gatewayLimits
        gateway.servesDocs = self.serveDocs
        gateway.carriesMessageIDs = !self.messageIDHeader.isEmpty
        return gateway
    }

    var producer: ProducerThread.Configuration {
        var producer = ProducerThread.Configuration(
            keyPolicy: self.recordKey,
            ring: RingRegistry.Configuration(
                ringCapacityBytes: self.ringBytes,
                budgetBytes: self.budgetBytes,
                idleReclaimAfter: .milliseconds(Int64(self.idleRingSeconds * 1000)),
                maxTopics: self.maxTopics
            )
        )
        // librdkafka lingers before sending anyway; napping up to that long adds no delay it would not.
        producer.napMilliseconds = Int32(min(1, max(0, self.lingerMilliseconds)))
        producer.messageIDHeader = self.messageIDHeader.isEmpty ? nil : self.messageIDHeader
        return producer
    }
}

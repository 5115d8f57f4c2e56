/// The hardening limits of the gateway: how many connections, how fast, how long, which chats.
///
/// Every limit has an "off" value (0, empty or false) so that an operator can lift one without a
/// rebuild; the defaults are generous enough that no well-behaved client ever meets them.
public struct GatewayLimits: Sendable {
    /// WebSocket connections (upgraded or being upgraded) the daemon holds at once; 0 = no limit.
    public var maxConnections: Int
    /// The same per client address (IPv6: per /64); 0 = no limit.
    public var maxConnectionsPerIP: Int
    /// Data messages one connection may send per second on average; 0 = no limit.
    public var messagesPerSecond: Int
    /// Payload bytes one connection may send per second on average; 0 = no limit.
    public var bytesPerSecond: Int
    /// How far above the rates a connection may burst: the buckets hold this many seconds of rate.
    public var burstSeconds: Double
    /// A connection that stays throttled this long is closed with 1008; zero never closes.
    public var rateViolationClose: Duration
    /// Time a TCP connection gets to send a request the server answers; zero = no limit.
    public var handshakeTimeout: Duration
    /// A WebSocket that sends nothing (not even a pong) this long is closed with 1001; zero = never.
    public var idleTimeout: Duration
    /// A WebSocket silent this long gets a ping (again every interval); zero = no pings.
    public var pingInterval: Duration
    /// A connection blocked by Kafka backpressure, without progress, this long is closed with 1013; zero = never.
    public var overloadClose: Duration
    /// Which chat names are accepted (pattern and allowlist).
    public var chats: ChatPolicy
    /// Accept only chats whose topic already exists in the cluster.
    public var requireExistingTopics: Bool
    /// How long the cluster's topic list is trusted before it is fetched again.
    public var topicListTTL: Duration

    public init(
        maxConnections: Int = 100_000,
        maxConnectionsPerIP: Int = 1000,
        messagesPerSecond: Int = 0,
        bytesPerSecond: Int = 0,
        burstSeconds: Double = 1,
        rateViolationClose: Duration = .seconds(10),
        handshakeTimeout: Duration = .seconds(10),
        idleTimeout: Duration = .seconds(120),
        pingInterval: Duration = .seconds(30),
        overloadClose: Duration = .zero,
        chats: ChatPolicy = ChatPolicy(),
        requireExistingTopics: Bool = false,
        topicListTTL: Duration = .seconds(10)
    ) {
        self.maxConnections = maxConnections
        self.maxConnectionsPerIP = maxConnectionsPerIP
        self.messagesPerSecond = messagesPerSecond
        self.bytesPerSecond = bytesPerSecond
        self.burstSeconds = burstSeconds
        self.rateViolationClose = rateViolationClose
        self.handshakeTimeout = handshakeTimeout
        self.idleTimeout = idleTimeout
        self.pingInterval = pingInterval
        self.overloadClose = overloadClose
        self.chats = chats
        self.requireExistingTopics = requireExistingTopics
        self.topicListTTL = topicListTTL
    }

    /// True when connections count messages against a rate.
    var limitsRate: Bool { self.messagesPerSecond > 0 || self.bytesPerSecond > 0 }
}

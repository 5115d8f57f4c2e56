import Access
import Ingest

/// Everything the WebSocket/HTTP front needs to know; filled from the daemon's configuration.
public struct GatewayConfiguration: Sendable {
    /// Address to bind; ignored when a listening socket is handed in.
    public var host: String
    /// 0 lets the kernel choose (tests read the bound port back).
    public var port: Int
    /// Largest text message accepted, after reassembly (bigger → close 1009).
    public var maxMessageBytes: Int
    /// Most fragments one message may arrive in (more → close 1009).
    public var maxFragments: Int
    /// Ack-mode messages one connection may have awaiting their delivery report before it stops reading.
    public var maxAcksInFlight: Int
    /// How record keys are chosen (the connection marks sender names that need unescaping).
    public var keyPolicy: RecordKeyPolicy
    /// `kafka.message_id_header` is set: ring records carry each message's id (`MessageIDTrailer`) for the
    /// producer thread to send as a Kafka header.
    public var carriesMessageIDs = false
    /// Time a shutdown may take to drain rings and flush librdkafka.
    public var drainTimeout: Duration
    /// Time clients get to answer our close frame before the socket is closed anyway.
    public var closeTimeout: Duration
    /// Handshake checks: bearer tokens, Origin allowlist, trusted proxies. The default checks nothing.
    public var access = AccessSettings()
    /// Connection, rate, timeout and topic limits (`limits.*`, `topics.*`, idle and ping timing).
    public var limits = GatewayLimits()
    /// `http.docs`: serve `/docs`, its JavaScript client, `/asyncapi.json` and the old documentation paths' redirects.
    public var servesDocs = true
    /// The listening socket outlives this process (systemd keeps a copy: fd store or socket unit), so the
    /// next process accepts where this one stopped. A handshake that arrives while draining (its connection
    /// was accepted before the listener closed) then gets its WebSocket and at once a 1001 close, so the
    /// client reconnects to the successor, instead of a 503 meant for a port that is going away.
    public var listenerOutlivesProcess = false

    public init(
        host: String = "0.0.0.0",
        port: Int = 8000,
        maxMessageBytes: Int = 64 * 1024,
        maxFragments: Int = 128,
        maxAcksInFlight: Int = 4096,
        keyPolicy: RecordKeyPolicy = .none,
        drainTimeout: Duration = .seconds(30),
        closeTimeout: Duration = .seconds(2)
    ) {
        self.host = host
        self.port = port
        self.maxMessageBytes = maxMessageBytes
        self.maxFragments = maxFragments
        self.maxAcksInFlight = maxAcksInFlight
        self.keyPolicy = keyPolicy
        self.drainTimeout = drainTimeout
        self.closeTimeout = closeTimeout
    }
}

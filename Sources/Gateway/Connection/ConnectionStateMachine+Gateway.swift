import Ingest

extension ConnectionStateMachine {
    /// The machine of a new connection to `target`, with the gateway's ack window and limits.
    init(target: WebSocketTarget, configuration: GatewayConfiguration, limits: LimitsRuntime, now: UInt64) {
        self.init(
            Configuration(
                wantsAcks: target.wantsAcks,
                maxAcksInFlight: configuration.maxAcksInFlight,
                sequenceMask: MessageTicket.sequenceMask,
                timeouts: .init(
                    idle: limits.idleTimeout,
                    ping: limits.pingInterval,
                    overloadClose: limits.overloadClose
                )
            ),
            rateLimit: ConnectionRateLimit(limits.limits, now: now),
            now: now
        )
    }
}

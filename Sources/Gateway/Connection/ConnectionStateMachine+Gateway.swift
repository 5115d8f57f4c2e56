import Access
import Foundation
import Ingest

extension ConnectionStateMachine {
    /// The machine of a new connection to `target`, with the gateway's ack window and limits.
    init(target: WebSocketTarget, configuration: GatewayConfiguration, limits: LimitsRuntime, now: UInt64) {
        self.init(
            Configuration(
                wantsAcks: target.wantsAcks,
                maxAcksInFlight: configuration.maxAcksInFlight,
                sequenceMask: MessageTicket.sequenceMask,
                timeouts: limits.timeouts,
                credentialExpiry: target.grant?.expiresAt.map { Self.monotonicDeadline($0, now: now) } ?? 0
            ),
            rateLimit: ConnectionRateLimit(limits.limits, now: now),
            now: now
        )
    }

    /// The monotonic clock value (nanoseconds, as `now`) at the wall-clock time `date`; at least 1, since 0
    /// means "no deadline", and `now` when `date` has passed.
    static func monotonicDeadline(_ date: Date, now: UInt64) -> UInt64 {
        let remaining = date.timeIntervalSinceNow
        guard remaining > 0 else { return max(now, 1) }
        return now &+ UInt64(min(remaining, 1e9) * 1e9)
    }
}

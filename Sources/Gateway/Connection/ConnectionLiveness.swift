/// The liveness rules the per-loop sweep applies to a connection: ping a silent client, close one silent
/// past the idle timeout, and close one blocked by Kafka without progress past the overload timeout.
///
/// Sweeps only, no timer per connection: a read just sets a flag (no clock read per read or message).
struct ConnectionLiveness {
    /// Nanoseconds; 0 turns the rule off.
    struct Timeouts: Equatable {
        var idle: UInt64
        var ping: UInt64
        var overloadClose: UInt64
    }

    enum SweepAction: Equatable {
        case nothing
        case ping
        case close(PoliteCloseCause)
        /// A ping is due, and the overload timeout passed in the same sweep.
        case pingThenClose(PoliteCloseCause)
    }

    /// A reload may replace them (`ConnectionStateMachine.reconfigure`); the silence so far still counts.
    var timeouts: Timeouts
    /// Monotonic nanoseconds at which the credential the connection was opened with expires; 0 for none.
    let credentialExpiry: UInt64
    /// Bytes arrived since the last sweep.
    private var heardFrom = false
    private var lastHeardAt: UInt64
    private var lastPingAt: UInt64 = 0
    /// When a sweep first found the connection blocked by Kafka without progress; 0 when it is not.
    private var blockedSince: UInt64 = 0
    private var sequenceAtSweep: UInt32 = 0

    init(timeouts: Timeouts, now: UInt64, credentialExpiry: UInt64 = 0) {
        self.timeouts = timeouts
        self.lastHeardAt = now
        self.credentialExpiry = credentialExpiry
    }

    @inline(__always)
    mutating func heard() {
        self.heardFrom = true
    }

    /// - Parameters:
    ///   - notReadByUs: processing is paused by us (Kafka backpressure, rate limit), so silence is ours.
    ///   - blockedByKafka: paused for ring space or acks.
    ///   - sequence: the last accepted message's sequence; unchanged since the last sweep means no progress.
    mutating func sweep(now: UInt64, notReadByUs: Bool, blockedByKafka: Bool, sequence: UInt32) -> SweepAction {
        if self.credentialExpiry != 0 && now >= self.credentialExpiry {
            return .close(.credentialExpired)
        }
        if self.heardFrom || notReadByUs {
            // Heard from, or not being read by us (Kafka backpressure, rate limit): not the client's silence.
            self.heardFrom = false
            self.lastHeardAt = now
        }
        let silent = now &- self.lastHeardAt
        if self.timeouts.idle > 0 && silent >= self.timeouts.idle {
            return .close(.idleTimeout)
        }
        var ping = false
        if self.timeouts.ping > 0 && silent >= self.timeouts.ping && now &- self.lastPingAt >= self.timeouts.ping {
            self.lastPingAt = now
            ping = true
        }
        if self.timeouts.overloadClose > 0 {
            if blockedByKafka && sequence == self.sequenceAtSweep {
                if self.blockedSince == 0 {
                    self.blockedSince = now
                } else if now &- self.blockedSince >= self.timeouts.overloadClose {
                    return ping ? .pingThenClose(.overloaded) : .close(.overloaded)
                }
            } else {
                self.blockedSince = 0
            }
            self.sequenceAtSweep = sequence
        }
        return ping ? .ping : .nothing
    }
}

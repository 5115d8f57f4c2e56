/// One connection's message and byte buckets, and how long it has been over its rate.
///
/// A connection is "in violation" from the moment it is first throttled (its burst is spent and a
/// message is waiting) until both buckets are full again, which takes about `burstSeconds` of sending
/// below the rates. A throttle that finds the violation older than `closeAfter` asks for the close.
struct ConnectionRateLimit {
    private var messages: TokenBucket?
    private var bytes: TokenBucket?
    private var violationSince: UInt64 = 0
    /// Nanoseconds; 0 never closes.
    let closeAfter: UInt64

    /// nil when the limits set no rate.
    init?(_ limits: GatewayLimits, now: UInt64) {
        guard limits.limitsRate else { return nil }
        if limits.messagesPerSecond > 0 {
            self.messages = TokenBucket(
                perSecond: Double(limits.messagesPerSecond),
                burstSeconds: limits.burstSeconds,
                now: now
            )
        }
        if limits.bytesPerSecond > 0 {
            self.bytes = TokenBucket(
                perSecond: Double(limits.bytesPerSecond),
                burstSeconds: limits.burstSeconds,
                now: now
            )
        }
        self.closeAfter = limits.rateViolationClose.nanoseconds
    }

    mutating func refill(now: UInt64) {
        self.messages?.refill(now: now)
        self.bytes?.refill(now: now)
        if self.violationSince != 0 && (self.messages?.isFull ?? true) && (self.bytes?.isFull ?? true) {
            self.violationSince = 0
        }
    }

    /// Takes one message of `count` bytes if both buckets allow it.
    @inline(__always)
    mutating func take(bytes count: Int) -> Bool {
        guard self.messages?.allows(1) ?? true, self.bytes?.allows(Double(count)) ?? true else { return false }
        self.messages?.take(1)
        self.bytes?.take(Double(count))
        return true
    }

    /// A message taken but not accepted after all (ring full): it will be taken again when retried.
    mutating func giveBack(bytes count: Int) {
        self.messages?.giveBack(1)
        self.bytes?.giveBack(Double(count))
    }

    /// How long to stay paused before a message of `count` bytes passes: at least 10 ms (or the time the
    /// buckets take to fill, if shorter), so a saturating client is resumed in batches, not per message.
    func pauseNanoseconds(bytes count: Int) -> UInt64 {
        let needed = max(
            self.messages?.nanosecondsUntilAllowed(1) ?? 0,
            self.bytes?.nanosecondsUntilAllowed(Double(count)) ?? 0
        )
        let fill = min(self.messages?.nanosecondsToFill ?? .max, self.bytes?.nanosecondsToFill ?? .max)
        return max(needed, min(10_000_000, fill), 1)
    }

    /// Records a throttle at `now`; true when the connection has been in violation longer than `closeAfter`.
    mutating func throttled(now: UInt64) -> Bool {
        if self.violationSince == 0 {
            self.violationSince = max(now, 1)  // 0 means "not in violation"
            return false
        }
        return self.closeAfter > 0 && now &- self.violationSince >= self.closeAfter
    }

    var isInViolation: Bool { self.violationSince != 0 }
}

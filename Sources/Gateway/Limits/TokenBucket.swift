/// A token bucket on `MonotonicClock` nanoseconds, refilled by the caller with a time it already read,
/// so that checking a message costs a comparison and a subtraction, not a clock read.
struct TokenBucket {
    let perNanosecond: Double
    let capacity: Double
    private(set) var tokens: Double
    private var refilledAt: UInt64

    /// Starts full: a new connection may burst at once.
    init(perSecond: Double, burstSeconds: Double, now: UInt64) {
        self.perNanosecond = perSecond / 1e9
        self.capacity = max(1, perSecond * burstSeconds)
        self.tokens = self.capacity
        self.refilledAt = now
    }

    mutating func refill(now: UInt64) {
        guard now > self.refilledAt else { return }
        self.tokens = min(self.capacity, self.tokens + Double(now &- self.refilledAt) * self.perNanosecond)
        self.refilledAt = now
    }

    var isFull: Bool { self.tokens >= self.capacity }

    /// A cost above the whole capacity passes from a full bucket and leaves a debt, so one large message
    /// is never refused forever while the long-run rate still holds.
    @inline(__always)
    func allows(_ cost: Double) -> Bool { self.tokens >= min(cost, self.capacity) }

    @inline(__always)
    mutating func take(_ cost: Double) { self.tokens -= cost }

    mutating func giveBack(_ cost: Double) { self.tokens = min(self.capacity, self.tokens + cost) }

    /// Time until `allows(cost)` holds, without further takes.
    func nanosecondsUntilAllowed(_ cost: Double) -> UInt64 {
        let missing = min(cost, self.capacity) - self.tokens
        return missing <= 0 ? 0 : UInt64((missing / self.perNanosecond).rounded(.up))
    }

    /// Time an empty bucket takes to fill.
    var nanosecondsToFill: UInt64 { UInt64((self.capacity / self.perNanosecond).rounded(.up)) }
}

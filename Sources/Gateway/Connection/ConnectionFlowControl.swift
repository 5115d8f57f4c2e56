/// Whether a connection reads: its pause reasons, and whether a `read()` was held back while paused.
///
/// Backpressure is "stop reading": while any reason is set no `read()` is passed on, the kernel's receive
/// buffer fills and the client feels TCP backpressure. A `read()` asked for meanwhile is remembered and
/// passed on once the last reason is gone.
struct ConnectionFlowControl {
    /// How the paused-connections gauge (`kcp_connections_paused`) must move after a change of reasons.
    /// It follows `ConnectionPauseReasons.backpressure` only.
    enum GaugeChange: Equatable {
        case unchanged
        case paused
        case resumed
    }

    private(set) var reasons: ConnectionPauseReasons = []
    /// A `read()` arrived while paused; passed on when reading resumes.
    private(set) var readRequested = false

    /// Frames already read may be parsed and handled.
    @inline(__always)
    var mayProcess: Bool { self.reasons.isDisjoint(with: .blocksProcessing) }

    func contains(_ reason: ConnectionPauseReasons) -> Bool { self.reasons.contains(reason) }

    mutating func pause(_ reason: ConnectionPauseReasons) -> GaugeChange {
        self.set(self.reasons.union(reason))
    }

    /// nil when `reason` was not paused: nothing to resume.
    mutating func resume(_ reason: ConnectionPauseReasons) -> GaugeChange? {
        guard self.reasons.contains(reason) else { return nil }
        return self.set(self.reasons.subtracting(reason))
    }

    /// Keeps only the reasons in `kept`.
    mutating func keepOnly(_ kept: ConnectionPauseReasons) -> GaugeChange {
        self.set(self.reasons.intersection(kept))
    }

    mutating func clear(_ reasons: ConnectionPauseReasons) -> GaugeChange {
        self.set(self.reasons.subtracting(reasons))
    }

    /// A `read()` from the pipeline: true when it is to be passed on now, false when held back.
    mutating func read() -> Bool {
        if self.reasons.isEmpty { return true }
        self.readRequested = true
        return false
    }

    /// True (once) when a held-back `read()` is to be passed on now: one was asked for, and nothing pauses.
    mutating func takeRequestedRead() -> Bool {
        guard self.readRequested, self.reasons.isEmpty else { return false }
        self.readRequested = false
        return true
    }

    private mutating func set(_ new: ConnectionPauseReasons) -> GaugeChange {
        let was = !self.reasons.isDisjoint(with: .backpressure)
        let isNow = !new.isDisjoint(with: .backpressure)
        self.reasons = new
        if was == isNow { return .unchanged }
        return isNow ? .paused : .resumed
    }
}

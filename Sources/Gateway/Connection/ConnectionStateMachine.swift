/// Everything a WebSocket connection decides, without NIO: flow control (pause reasons, held-back reads),
/// admission (rate limit, ack window, refusal at shutdown), ring-space waiting, liveness, ack bookkeeping
/// and the close handshake. Events in, actions out: each event is a `mutating func` returning what the
/// connection handler must do (write, flush, read, schedule, close); times come in as `MonotonicClock`
/// nanoseconds. Events that make no sense in the current state (after the close, a resume of a reason
/// not paused, an ack nobody waits for) answer with an action that does nothing.
///
/// The per-message events (`acceptsData`, `admitByRate`, `admit`, `pushed`) are a few comparisons each,
/// inlined, with no allocation: the machine lives inline in its handler, on the connection's event loop.
struct ConnectionStateMachine {
    enum State: Equatable {
        case open
        /// We sent a close frame and wait for the client's.
        case closeSent
        case closed
    }

    struct Configuration {
        var wantsAcks: Bool
        var maxAcksInFlight: Int
        var sequenceMask: UInt32
        var timeouts: ConnectionLiveness.Timeouts
        /// Monotonic nanoseconds at which the connection's credential expires; 0 for none.
        var credentialExpiry: UInt64 = 0
    }

    typealias GaugeChange = ConnectionFlowControl.GaugeChange

    /// After an event that may have lifted a pause.
    enum ResumeAction: Equatable {
        /// Nothing was lifted.
        case none
        /// Move the gauge, handle the input already read, flush, then pass on a held-back `read()` if
        /// `takeRequestedRead()` says so.
        case resume(GaugeChange)
    }

    /// What to do with bytes that arrived.
    enum InboundAction: Equatable {
        /// The connection is closed: drop them.
        case discard
        case process
        /// A rate is set: refill its buckets with the clock (`refillRate`) once per read, then process.
        case refillRateThenProcess
    }

    /// The rate buckets were empty for a message even after a refill.
    enum RateAction: Equatable {
        /// Enough time had passed after all.
        case admit
        /// Over the rate for too long: leave the message, and close once the reader returns (`readFinished`).
        case closeAfterRead
        /// Paused (`rateLimited`): count the pause and resume after this many nanoseconds (`rateTimerFired`).
        case pause(nanoseconds: UInt64)
    }

    /// A complete message, valid, asks to be queued.
    enum Admission: Equatable {
        /// Shutting down: refuse it (count it); a nack carrying this number (or the client's id) when the
        /// client wants acks, nothing when `nackNumber` is nil.
        case refuse(nackNumber: UInt64?)
        /// The ack window is full: leave the message where it is (`retryLater`).
        case wait(GaugeChange)
        /// Push it with this sequence; `pushed` follows when it was pushed.
        case push(sequence: UInt32)
    }

    /// After the reader returned without a violation of its own.
    enum ReadFinishedAction: Equatable {
        case none
        /// Fail the connection: 1007, text message is not valid UTF-8.
        case failInvalidText
        /// Close politely for the rate limit.
        case closeForRate
    }

    /// A polite close: our close frame, then the client's awaited (at most the close timeout).
    enum PoliteCloseAction: Equatable {
        /// Not open any more: nothing to do.
        case none
        /// Count it, write the close frame and flush, arm the close timer, move the gauge; then keep
        /// reading so the client's close frame is seen (data after our close is discarded).
        case close(PoliteCloseCause, GaugeChange)
    }

    /// The connection went away (inactive or removed).
    enum CleanUpAction: Equatable {
        /// Already done.
        case none
        /// Cancel the timers, unregister, forget the ring-space wait if `removeWaiter`, detach, count.
        case cleanUp(removeWaiter: Bool, GaugeChange)
    }

    private(set) var state = State.open
    private(set) var flow = ConnectionFlowControl()
    private(set) var acks: ConnectionAcks
    private var liveness: ConnectionLiveness
    /// nil when no rate is set: the per-message check is then one nil test.
    private var rateLimit: ConnectionRateLimit?
    /// A rate throttle found the violation too old; the close waits until the reader has returned.
    private var rateViolationPending = false
    /// A text message was not valid UTF-8; the connection fails once the reader has returned.
    private var invalidTextPending = false
    /// While shutting down: buffered messages that could not be accepted in time are refused.
    private(set) var refusingInput = false
    /// Registered with the ring for a space notification.
    private(set) var waitingForSpace = false
    private var cleanedUp = false

    init(_ configuration: Configuration, rateLimit: ConnectionRateLimit?, now: UInt64) {
        self.acks = ConnectionAcks(
            wantsAcks: configuration.wantsAcks,
            window: configuration.maxAcksInFlight,
            sequenceMask: configuration.sequenceMask
        )
        self.liveness = ConnectionLiveness(
            timeouts: configuration.timeouts,
            now: now,
            credentialExpiry: configuration.credentialExpiry
        )
        self.rateLimit = rateLimit
    }

    // MARK: lifecycle

    /// The handler joined the pipeline; `draining` when a shutdown already began.
    mutating func added(draining: Bool) -> GaugeChange {
        draining ? self.flow.pause(.draining) : .unchanged
    }

    mutating func cleanUp() -> CleanUpAction {
        guard !self.cleanedUp else { return .none }
        self.cleanedUp = true
        self.state = .closed
        let gauge = self.flow.keepOnly([])
        self.acks.forgetAll()
        return .cleanUp(removeWaiter: self.waitingForSpace, gauge)
    }

    // MARK: reading

    mutating func bytesArrived() -> InboundAction {
        guard self.state != .closed else { return .discard }
        self.liveness.heard()
        return self.rateLimit == nil ? .process : .refillRateThenProcess
    }

    /// One clock read per read burst, none per message.
    mutating func refillRate(now: UInt64) {
        self.rateLimit?.refill(now: now)
    }

    /// A `read()` from the pipeline: true to pass it on now, false when it is held back.
    mutating func readRequested() -> Bool {
        self.flow.read()
    }

    /// True (once) when a held-back `read()` is to be passed on now.
    mutating func takeRequestedRead() -> Bool {
        self.flow.takeRequestedRead()
    }

    /// Frames already read may be parsed and handled.
    @inline(__always)
    var mayProcess: Bool { self.flow.mayProcess }

    /// The socket cannot take our replies: stop reading (processing goes on; replies queue in the channel).
    mutating func becameUnwritable() -> GaugeChange {
        self.flow.pause(.unwritable)
    }

    mutating func becameWritable() -> ResumeAction {
        self.resume(.unwritable)
    }

    // MARK: messages

    /// Data frames (text, binary) are handled only while open; after our close frame they are discarded
    /// (RFC 6455 §5.5.1). Pings are answered only while open, too.
    @inline(__always)
    var acceptsData: Bool { self.state == .open }

    /// Takes one message of `count` bytes from the rate buckets without reading the clock; true when no
    /// rate is set, while refusing at shutdown, or when the buckets allow it. On false, read the clock and
    /// call `rateExhausted`.
    @inline(__always)
    mutating func admitByRate(bytes count: Int) -> Bool {
        guard self.rateLimit != nil, !self.refusingInput else { return true }
        return self.rateLimit!.take(bytes: count)
    }

    /// The message's tokens were not there at the last read: look at the clock once more, then either
    /// pause reading until the buckets allow it (backpressure first), or — when the connection has been
    /// over its rate for longer than `limits.rate_violation_close_seconds` — close it with 1008, politely
    /// (our close frame, then the client's awaited while its data is read and discarded): closing the
    /// socket with the flood still unread would send a reset that can destroy the close frame in flight.
    mutating func rateExhausted(bytes count: Int, now: UInt64) -> RateAction {
        guard self.rateLimit != nil else { return .admit }
        self.rateLimit!.refill(now: now)
        if self.rateLimit!.take(bytes: count) { return .admit }
        if self.rateLimit!.throttled(now: now) {
            self.rateViolationPending = true  // closed once the reader has returned
            return .closeAfterRead
        }
        _ = self.flow.pause(.rateLimited)  // not backpressure: the gauge does not move
        return .pause(nanoseconds: min(self.rateLimit!.pauseNanoseconds(bytes: count), 3_600_000_000_000))
    }

    /// A message taken from the buckets but left for later (`retryLater`): it is taken again when retried.
    mutating func giveBackRate(bytes count: Int) {
        self.rateLimit?.giveBack(bytes: count)
    }

    mutating func rateTimerFired(now: UInt64) -> ResumeAction {
        self.rateLimit?.refill(now: now)
        return self.resume(.rateLimited)
    }

    /// A text message whose payload is not UTF-8: stop reading it (`retryLater`); the connection fails
    /// once the reader returned.
    mutating func invalidText() {
        self.invalidTextPending = true
    }

    @inline(__always)
    mutating func admit() -> Admission {
        if self.refusingInput { return .refuse(nackNumber: self.acks.refused()) }
        if self.acks.isWindowFull { return .wait(self.flow.pause(.acksInFlight)) }
        return .push(sequence: self.acks.nextSequence)
    }

    /// The ring was full. True when the caller must register for space now — and then, in any case, push
    /// once more: space freed between the failed push and the registration would otherwise wake nobody.
    mutating func ringFull() -> Bool {
        guard !self.waitingForSpace else { return false }
        self.waitingForSpace = true
        return true
    }

    /// Still full after the second push: stop processing and reading until the ring has space.
    mutating func ringStillFull() -> GaugeChange {
        self.flow.pause(.ringFull)
    }

    /// The producer thread freed space (the ring forgot the registration when it woke us).
    mutating func ringHasSpace() -> ResumeAction {
        self.waitingForSpace = false
        return self.resume(.ringFull)
    }

    /// The message with `sequence` is in the ring. Ack mode: returns its number on the connection; the
    /// caller records its `PendingAck` with `awaitAck`.
    @inline(__always)
    mutating func pushed(sequence: UInt32) -> UInt64? {
        self.acks.pushed(sequence: sequence)
    }

    mutating func awaitAck(sequence: UInt32, _ ack: PendingAck) {
        self.acks.awaitAck(sequence: sequence, ack)
    }

    /// The reader returned (no violation of its own): a failure or close decided during the read.
    mutating func readFinished() -> ReadFinishedAction {
        if self.invalidTextPending {
            self.invalidTextPending = false
            return .failInvalidText
        }
        if self.rateViolationPending {
            self.rateViolationPending = false
            return .closeForRate
        }
        return .none
    }

    // MARK: acknowledgements

    /// A delivery report for `sequence`: the pending ack to answer, nil when none waits for it (closed, an
    /// unknown or already answered sequence).
    mutating func acknowledge(sequence: UInt32) -> PendingAck? {
        guard self.state != .closed else { return nil }
        return self.acks.acknowledge(sequence: sequence)
    }

    /// A batch of acks was written: resume when at most half the ack window is outstanding.
    mutating func acknowledgementsFlushed() -> ResumeAction {
        guard self.flow.contains(.acksInFlight), self.acks.hasRoomToResume else { return .none }
        return self.resume(.acksInFlight)
    }

    // MARK: liveness

    /// A reload changed the limits: the liveness rules take the new timeouts (the silence so far counts
    /// against them) and the rate starts over with full buckets (nil: no rate). A pause for the old rate
    /// ends when its timer fires, as it would have.
    mutating func reconfigure(timeouts: ConnectionLiveness.Timeouts, rateLimit: ConnectionRateLimit?) {
        guard self.state != .closed else { return }
        self.liveness.timeouts = timeouts
        self.rateLimit = rateLimit
    }

    /// The credential the connection was opened with expires (the loop must sweep it).
    var credentialExpires: Bool { self.liveness.credentialExpiry != 0 }

    /// Run by the loop's sweep; nothing while closing or draining.
    mutating func sweep(now: UInt64) -> ConnectionLiveness.SweepAction {
        guard self.state == .open, !self.flow.contains(.draining) else { return .nothing }
        return self.liveness.sweep(
            now: now,
            notReadByUs: !self.flow.mayProcess,
            blockedByKafka: !self.flow.reasons.isDisjoint(with: .kafkaBlocked),
            sequence: self.acks.sequence
        )
    }

    // MARK: shutdown

    /// Stops reading; what was already read is still handled.
    mutating func beginDraining() -> GaugeChange {
        self.flow.pause(.draining)
    }

    /// Open, and processing is paused (ring full, ack window full, rate limit): any complete message read
    /// waits. Whether there is one is the reader's and the input's business.
    var isBlocked: Bool { self.state == .open && !self.flow.mayProcess }

    /// Shutdown deadline: process what waits, refusing every message instead of queueing it.
    mutating func refuseBlockedInput() -> GaugeChange {
        self.refusingInput = true
        return self.flow.clear(.blocksProcessing)
    }

    // MARK: closing

    /// Closes politely for `cause` (our close frame first). Only from `open`.
    mutating func closePolitely(_ cause: PoliteCloseCause) -> PoliteCloseAction {
        guard self.state == .open else { return .none }
        self.state = .closeSent
        // Keep reading so the client's close frame is seen; data frames after our close are discarded.
        return .close(cause, self.flow.keepOnly(.unwritable))
    }

    /// A protocol violation: true when our close frame is still to be sent (we were open). Closed after.
    mutating func failed() -> Bool {
        defer { self.state = .closed }
        return self.state == .open
    }

    /// The client's close frame: true when it is to be echoed (we had not sent ours). Closed after.
    mutating func peerClosed() -> Bool {
        defer { self.state = .closed }
        return self.state == .open
    }

    // MARK: private

    private mutating func resume(_ reason: ConnectionPauseReasons) -> ResumeAction {
        guard let gauge = self.flow.resume(reason) else { return .none }
        return .resume(gauge)
    }
}

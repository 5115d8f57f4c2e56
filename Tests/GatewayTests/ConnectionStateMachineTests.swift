import Testing

@testable import Gateway

/// `ConnectionStateMachine` with plain values: every event in every state it can meet, illegal ones too.
@Suite("Connection state machine")
struct ConnectionStateMachineTests {
    typealias Machine = ConnectionStateMachine

    static func machine(
        wantsAcks: Bool = false,
        window: Int = 4,
        sequenceMask: UInt32 = (1 << 24) - 1,
        idle: UInt64 = 0,
        ping: UInt64 = 0,
        overload: UInt64 = 0,
        rate: ConnectionRateLimit? = nil,
        now: UInt64 = 1_000
    ) -> Machine {
        Machine(
            .init(
                wantsAcks: wantsAcks,
                maxAcksInFlight: window,
                sequenceMask: sequenceMask,
                timeouts: .init(idle: idle, ping: ping, overloadClose: overload)
            ),
            rateLimit: rate,
            now: now
        )
    }

    /// Two messages a second, one second of burst (two messages), closed after `closeAfter` in violation.
    static func rate(now: UInt64, closeAfter: Duration = .seconds(1)) -> ConnectionRateLimit {
        ConnectionRateLimit(GatewayLimits(messagesPerSecond: 2, burstSeconds: 1, rateViolationClose: closeAfter), now: now)!
    }

    static let second: UInt64 = 1_000_000_000

    /// Admits and pushes one message; returns its sequence.
    @discardableResult
    static func push(_ machine: inout Machine, acceptedAt: UInt64 = 0) -> UInt32 {
        guard case .push(let sequence) = machine.admit() else {
            Issue.record("message not admitted")
            return 0
        }
        if let number = machine.pushed(sequence: sequence) {
            machine.awaitAck(sequence: sequence, PendingAck(id: .number(number), acceptedAt: acceptedAt))
        }
        return sequence
    }

    // MARK: reading and flow control

    @Test func readsPassOnWhileNothingPauses() {
        var machine = Self.machine()
        #expect(machine.readRequested())
        #expect(!machine.takeRequestedRead())  // none was held back
        #expect(machine.bytesArrived() == .process)
        #expect(machine.mayProcess)
        #expect(machine.acceptsData)
    }

    @Test func aReadWhilePausedIsHeldBackUntilEveryReasonIsGone() {
        var machine = Self.machine(wantsAcks: true, window: 1)
        #expect(machine.becameUnwritable() == .paused)
        #expect(!machine.readRequested())
        Self.push(&machine)
        #expect(machine.admit() == .wait(.unchanged))  // already paused for backpressure
        #expect(!machine.takeRequestedRead())
        #expect(machine.becameWritable() == .resume(.unchanged))  // acks still in flight
        #expect(!machine.takeRequestedRead())
        #expect(machine.acknowledge(sequence: 1) != nil)
        #expect(machine.acknowledgementsFlushed() == .resume(.resumed))
        #expect(machine.takeRequestedRead())
        #expect(!machine.takeRequestedRead())  // once
    }

    @Test func unwritableStopsReadingButNotProcessing() {
        var machine = Self.machine()
        #expect(machine.becameUnwritable() == .paused)
        #expect(machine.mayProcess)
        #expect(!machine.readRequested())
        #expect(!machine.isBlocked)
    }

    @Test func resumingAReasonNotPausedDoesNothing() {
        var machine = Self.machine(wantsAcks: true)
        #expect(machine.becameWritable() == .none)
        #expect(machine.ringHasSpace() == .none)
        #expect(machine.rateTimerFired(now: 2_000) == .none)
        #expect(machine.acknowledgementsFlushed() == .none)
        #expect(machine.flow.reasons.isEmpty)
    }

    @Test func thePausedGaugeFollowsBackpressureOnly() {
        var machine = Self.machine(wantsAcks: true, window: 1, rate: Self.rate(now: 1_000))
        #expect(machine.beginDraining() == .unchanged)
        _ = machine.admitByRate(bytes: 1)
        _ = machine.admitByRate(bytes: 1)
        #expect(!machine.admitByRate(bytes: 1))
        guard case .pause = machine.rateExhausted(bytes: 1, now: 1_000) else {
            Issue.record("expected a rate pause")
            return
        }
        #expect(machine.flow.contains(.rateLimited))
        #expect(machine.ringStillFull() == .paused)
        #expect(machine.becameUnwritable() == .unchanged)
        #expect(machine.becameWritable() == .resume(.unchanged))
        #expect(machine.ringHasSpace() == .resume(.resumed))
        #expect(machine.rateTimerFired(now: 1_000 + Self.second) == .resume(.unchanged))
        #expect(machine.flow.reasons == .draining)
    }

    @Test func aHandlerAddedWhileDrainingDoesNotRead() {
        var machine = Self.machine()
        #expect(machine.added(draining: true) == .unchanged)
        #expect(!machine.readRequested())
        #expect(machine.mayProcess)  // what was read is still handled
        var other = Self.machine()
        #expect(other.added(draining: false) == .unchanged)
        #expect(other.readRequested())
    }

    // MARK: admission: ack window

    @Test func theAckWindowPausesAndResumesAtHalf() {
        var machine = Self.machine(wantsAcks: true, window: 4)
        for expected in 1...4 { #expect(Self.push(&machine) == UInt32(expected)) }
        #expect(machine.admit() == .wait(.paused))
        #expect(!machine.mayProcess)
        #expect(machine.isBlocked)
        #expect(machine.acknowledge(sequence: 1) == PendingAck(id: .number(1), acceptedAt: 0))
        #expect(machine.acknowledgementsFlushed() == .none)  // 3 outstanding > 4 / 2
        #expect(machine.acknowledge(sequence: 2) != nil)
        #expect(machine.acknowledgementsFlushed() == .resume(.resumed))
        #expect(machine.admit() == .push(sequence: 5))
    }

    @Test func withoutAcksNothingIsPendingAndTheWindowNeverFills() {
        var machine = Self.machine(wantsAcks: false, window: 1)
        for expected in 1...10 {
            #expect(machine.admit() == .push(sequence: UInt32(expected)))
            #expect(machine.pushed(sequence: UInt32(expected)) == nil)
        }
        #expect(machine.acks.inFlight == 0)
        #expect(machine.acknowledge(sequence: 1) == nil)
    }

    @Test func sequencesWrapAtTheTicketMask() {
        var machine = Self.machine(sequenceMask: 3)
        #expect(Self.push(&machine) == 1)
        #expect(Self.push(&machine) == 2)
        #expect(Self.push(&machine) == 3)
        #expect(Self.push(&machine) == 0)
        #expect(Self.push(&machine) == 1)
    }

    @Test func messageNumbersCountAckModeMessagesOnly() {
        var machine = Self.machine(wantsAcks: true)
        #expect(machine.pushed(sequence: 1) == 1)
        #expect(machine.pushed(sequence: 2) == 2)
        #expect(machine.acks.sequence == 2)
    }

    @Test func anAckForAnUnknownOrAnsweredSequenceIsIgnored() {
        var machine = Self.machine(wantsAcks: true)
        let sequence = Self.push(&machine, acceptedAt: 42)
        #expect(machine.acknowledge(sequence: sequence + 1) == nil)
        #expect(machine.acknowledge(sequence: sequence) == PendingAck(id: .number(1), acceptedAt: 42))
        #expect(machine.acknowledge(sequence: sequence) == nil)
    }

    @Test func clientIDsAreKeptAsGiven() {
        var machine = Self.machine(wantsAcks: true)
        guard case .push(let sequence) = machine.admit(), let _ = machine.pushed(sequence: sequence) else {
            Issue.record("not admitted")
            return
        }
        machine.awaitAck(sequence: sequence, PendingAck(id: .clientID(Array("\"a\"".utf8)), acceptedAt: 7))
        #expect(machine.acknowledge(sequence: sequence)?.id == .clientID(Array("\"a\"".utf8)))
    }

    // MARK: ring space

    @Test func aFullRingRegistersOnceThenPausesUntilSpace() {
        var machine = Self.machine()
        #expect(machine.ringFull())  // register, then push once more
        #expect(machine.waitingForSpace)
        #expect(machine.ringStillFull() == .paused)
        #expect(!machine.mayProcess)
        #expect(!machine.readRequested())
        #expect(machine.isBlocked)
        #expect(!machine.ringFull())  // still registered: no second registration
        #expect(machine.ringHasSpace() == .resume(.resumed))
        #expect(!machine.waitingForSpace)
        #expect(machine.takeRequestedRead())
        #expect(machine.ringFull())  // woken: the ring forgot us, register again
    }

    @Test func aFullRingThatFreedSpaceBeforeTheSecondPushDoesNotPause() {
        var machine = Self.machine()
        #expect(machine.ringFull())
        // the second push succeeded
        #expect(machine.pushed(sequence: 1) == nil)
        #expect(machine.mayProcess)
        #expect(machine.readRequested())
    }

    // MARK: rate limit

    @Test func withoutARateEveryMessagePassesAndNoClockIsNeeded() {
        var machine = Self.machine()
        #expect(machine.bytesArrived() == .process)
        for _ in 0..<1000 { #expect(machine.admitByRate(bytes: 100)) }
        #expect(machine.rateExhausted(bytes: 1, now: 5) == .admit)
    }

    @Test func overTheRatePausesThenResumes() {
        let start: UInt64 = 1_000
        var machine = Self.machine(rate: Self.rate(now: start))
        #expect(machine.bytesArrived() == .refillRateThenProcess)
        #expect(machine.admitByRate(bytes: 10))
        #expect(machine.admitByRate(bytes: 10))
        #expect(!machine.admitByRate(bytes: 10))
        // 0.6 s later the bucket holds 1.2 tokens
        let later = start + Self.second * 6 / 10
        #expect(machine.rateExhausted(bytes: 10, now: later) == .admit)
        #expect(!machine.admitByRate(bytes: 10))
        guard case .pause(let wait) = machine.rateExhausted(bytes: 10, now: later) else {
            Issue.record("expected a pause")
            return
        }
        #expect((Self.second * 4 / 10 - 1000...Self.second * 4 / 10 + 1000).contains(wait))  // 0.8 token at 2/s
        #expect(!machine.mayProcess)
        #expect(machine.isBlocked)
        #expect(!machine.readRequested())
        #expect(machine.readFinished() == .none)
        #expect(machine.rateTimerFired(now: start + 2 * Self.second) == .resume(.unchanged))
        #expect(machine.takeRequestedRead())
        #expect(machine.admitByRate(bytes: 10))
    }

    @Test func aMessageLeftForLaterGivesItsTokensBack() {
        var machine = Self.machine(rate: Self.rate(now: 0))
        #expect(machine.admitByRate(bytes: 1))
        #expect(machine.admitByRate(bytes: 1))
        machine.giveBackRate(bytes: 1)
        #expect(machine.admitByRate(bytes: 1))
        #expect(!machine.admitByRate(bytes: 1))
    }

    @Test func overTheRateForTooLongClosesAfterTheRead() {
        let start: UInt64 = 1_000
        var machine = Self.machine(rate: Self.rate(now: start, closeAfter: .seconds(1)))
        _ = machine.admitByRate(bytes: 1)
        _ = machine.admitByRate(bytes: 1)
        guard case .pause = machine.rateExhausted(bytes: 1, now: start) else {
            Issue.record("the first throttle pauses")
            return
        }
        _ = machine.rateTimerFired(now: start + Self.second * 6 / 10)
        #expect(machine.admitByRate(bytes: 1))
        #expect(!machine.admitByRate(bytes: 1))
        let late = start + Self.second * 11 / 10
        #expect(machine.rateExhausted(bytes: 1, now: late) == .admit)  // refilled, but never full again
        #expect(machine.rateExhausted(bytes: 1, now: late) == .closeAfterRead)  // in violation for 1.1 s
        #expect(machine.readFinished() == .closeForRate)
        #expect(machine.readFinished() == .none)  // once
        #expect(machine.closePolitely(.rateLimited) == .close(.rateLimited, .unchanged))
    }

    @Test func refusingAtShutdownSkipsTheRate() {
        var machine = Self.machine(wantsAcks: true, window: 1, rate: Self.rate(now: 0))
        _ = machine.admitByRate(bytes: 1)
        _ = machine.admitByRate(bytes: 1)
        #expect(!machine.admitByRate(bytes: 1))
        _ = machine.refuseBlockedInput()
        #expect(machine.admitByRate(bytes: 1))
    }

    // MARK: invalid text

    @Test func invalidTextFailsOnceTheReaderReturned() {
        var machine = Self.machine()
        machine.invalidText()
        #expect(machine.readFinished() == .failInvalidText)
        #expect(machine.readFinished() == .none)
    }

    // MARK: liveness

    @Test func aSilentClientIsPingedThenClosedForIdleness() {
        let t: UInt64 = 1_000
        var machine = Self.machine(idle: 10, ping: 4, now: t)
        #expect(machine.sweep(now: t + 3) == .nothing)
        #expect(machine.sweep(now: t + 5) == .ping)
        #expect(machine.sweep(now: t + 6) == .nothing)  // pinged less than an interval ago
        #expect(machine.sweep(now: t + 9) == .ping)
        #expect(machine.sweep(now: t + 10) == .close(.idleTimeout))
    }

    @Test func bytesFromTheClientResetItsSilence() {
        let t: UInt64 = 1_000
        var machine = Self.machine(idle: 10, now: t)
        #expect(machine.bytesArrived() == .process)
        #expect(machine.sweep(now: t + 8) == .nothing)
        #expect(machine.sweep(now: t + 17) == .nothing)
        #expect(machine.sweep(now: t + 18) == .close(.idleTimeout))
    }

    @Test func aClientWeDoNotReadIsNotSilent() {
        let t: UInt64 = 1_000
        var machine = Self.machine(idle: 10, now: t)
        #expect(machine.ringFull())
        _ = machine.ringStillFull()
        #expect(machine.sweep(now: t + 100) == .nothing)
        _ = machine.ringHasSpace()
        #expect(machine.sweep(now: t + 109) == .nothing)
        #expect(machine.sweep(now: t + 110) == .close(.idleTimeout))
    }

    @Test func blockedByKafkaWithoutProgressClosesAsOverloaded() {
        let t: UInt64 = 1_000
        var machine = Self.machine(overload: 10, now: t)
        _ = machine.ringFull()
        _ = machine.ringStillFull()
        #expect(machine.sweep(now: t + 1) == .nothing)  // blocked since t + 1
        #expect(machine.sweep(now: t + 10) == .nothing)
        #expect(machine.sweep(now: t + 11) == .close(.overloaded))
    }

    @Test func progressWhileBlockedRestartsTheOverloadClock() {
        let t: UInt64 = 1_000
        var machine = Self.machine(wantsAcks: true, window: 1, overload: 10, now: t)
        Self.push(&machine)
        #expect(machine.admit() == .wait(.paused))
        #expect(machine.sweep(now: t + 1) == .nothing)  // sequence moved since the last sweep (0 → 1)
        #expect(machine.sweep(now: t + 2) == .nothing)  // blocked since t + 2
        _ = machine.acknowledge(sequence: 1)
        _ = machine.acknowledgementsFlushed()
        Self.push(&machine)
        #expect(machine.admit() == .wait(.paused))
        #expect(machine.sweep(now: t + 12) == .nothing)  // progress: not blocked since t + 2 any more
        #expect(machine.sweep(now: t + 13) == .nothing)
        #expect(machine.sweep(now: t + 23) == .close(.overloaded))
    }

    @Test func aPingDueInTheSweepThatClosesForOverloadGoesFirst() {
        var liveness = ConnectionLiveness(timeouts: .init(idle: 0, ping: 5, overloadClose: 5), now: 0)
        #expect(liveness.sweep(now: 1, notReadByUs: false, blockedByKafka: true, sequence: 0) == .nothing)
        #expect(liveness.sweep(now: 6, notReadByUs: false, blockedByKafka: true, sequence: 0) == .pingThenClose(.overloaded))
    }

    @Test func noSweepWhileDrainingOrClosing() {
        var draining = Self.machine(idle: 1, now: 0)
        _ = draining.beginDraining()
        #expect(draining.sweep(now: 100) == .nothing)
        var closing = Self.machine(idle: 1, now: 0)
        _ = closing.closePolitely(.shuttingDown)
        #expect(closing.sweep(now: 100) == .nothing)
    }

    // MARK: shutdown

    @Test func drainingStopsReadsOnly() {
        var machine = Self.machine()
        #expect(machine.beginDraining() == .unchanged)
        #expect(!machine.readRequested())
        #expect(machine.mayProcess)
        #expect(!machine.isBlocked)
    }

    @Test func refusingBlockedInputLiftsTheProcessingPausesAndRefusesEveryMessage() {
        var machine = Self.machine(wantsAcks: true, window: 1)
        _ = machine.beginDraining()
        Self.push(&machine)
        #expect(machine.admit() == .wait(.paused))
        #expect(machine.isBlocked)
        #expect(machine.refuseBlockedInput() == .resumed)
        #expect(machine.refusingInput)
        #expect(machine.mayProcess)
        #expect(!machine.isBlocked)
        #expect(machine.admit() == .refuse(nackNumber: 2))
        #expect(machine.admit() == .refuse(nackNumber: 3))
        #expect(machine.flow.reasons == .draining)
    }

    @Test func refusedMessagesOfAClientWithoutAcksGetNoNack() {
        var machine = Self.machine(wantsAcks: false)
        _ = machine.refuseBlockedInput()
        #expect(machine.admit() == .refuse(nackNumber: nil))
    }

    // MARK: close handshake

    @Test func aPoliteCloseKeepsReadingForTheClientsClose() {
        var machine = Self.machine()
        _ = machine.ringFull()
        #expect(machine.ringStillFull() == .paused)
        _ = machine.beginDraining()
        #expect(!machine.readRequested())
        #expect(machine.closePolitely(.shuttingDown) == .close(.shuttingDown, .resumed))
        #expect(machine.state == .closeSent)
        #expect(machine.flow.reasons.isEmpty)
        #expect(machine.takeRequestedRead())
        #expect(!machine.acceptsData)  // data after our close is discarded
        #expect(machine.bytesArrived() == .process)  // but read, for the close frame
        #expect(machine.peerClosed() == false)  // no echo: ours was sent
        #expect(machine.state == .closed)
    }

    @Test func aPoliteCloseKeepsAnUnwritablePause() {
        var machine = Self.machine()
        _ = machine.becameUnwritable()
        #expect(machine.closePolitely(.idleTimeout) == .close(.idleTimeout, .unchanged))
        #expect(machine.flow.reasons == .unwritable)
    }

    @Test func onlyAnOpenConnectionClosesPolitely() {
        var machine = Self.machine()
        #expect(machine.closePolitely(.overloaded) == .close(.overloaded, .unchanged))
        #expect(machine.closePolitely(.shuttingDown) == .none)
        var failed = Self.machine()
        #expect(failed.failed())
        #expect(failed.closePolitely(.rateLimited) == .none)
        var peerClosed = Self.machine()
        #expect(peerClosed.peerClosed())
        #expect(peerClosed.closePolitely(.idleTimeout) == .none)
    }

    @Test func thePeersCloseIsEchoedOnlyWhileOpen() {
        var machine = Self.machine()
        #expect(machine.peerClosed())
        #expect(machine.state == .closed)
        #expect(!machine.peerClosed())
        #expect(machine.bytesArrived() == .discard)
    }

    @Test func aViolationSendsOurCloseOnlyWhileOpen() {
        var open = Self.machine()
        #expect(open.failed())
        #expect(open.state == .closed)
        var closing = Self.machine()
        _ = closing.closePolitely(.idleTimeout)
        #expect(!closing.failed())
        #expect(closing.state == .closed)
        #expect(!closing.failed())
    }

    @Test func afterTheCloseEventsDoNothing() {
        var machine = Self.machine(wantsAcks: true)
        let sequence = Self.push(&machine)
        #expect(machine.peerClosed())
        #expect(machine.bytesArrived() == .discard)
        #expect(!machine.acceptsData)
        #expect(machine.acknowledge(sequence: sequence) == nil)
        #expect(machine.sweep(now: .max) == .nothing)
        #expect(machine.closePolitely(.shuttingDown) == .none)
        #expect(!machine.isBlocked)
    }

    @Test func cleanUpHappensOnceAndForgetsEverything() {
        var machine = Self.machine(wantsAcks: true)
        let sequence = Self.push(&machine)
        _ = machine.ringFull()
        _ = machine.ringStillFull()
        #expect(machine.cleanUp() == .cleanUp(removeWaiter: true, .resumed))
        #expect(machine.cleanUp() == .none)
        #expect(machine.state == .closed)
        #expect(machine.acks.inFlight == 0)
        #expect(machine.acknowledge(sequence: sequence) == nil)
        #expect(machine.bytesArrived() == .discard)
        var idle = Self.machine()
        #expect(idle.cleanUp() == .cleanUp(removeWaiter: false, .unchanged))
    }
}

import Testing

@testable import Gateway

/// `ConnectionStateMachine` with plain values: every event in every state it can meet, illegal ones too.
/// `#expect` cannot take a mutating call (its operands are captured); events are checked through this.
private func check<T: Equatable>(_ actual: T, _ expected: T, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(actual == expected, sourceLocation: sourceLocation)
}

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
        credentialExpiry: UInt64 = 0,
        rate: ConnectionRateLimit? = nil,
        now: UInt64 = 1_000
    ) -> Machine {
        Machine(
            .init(
                wantsAcks: wantsAcks,
                maxAcksInFlight: window,
                sequenceMask: sequenceMask,
                timeouts: .init(idle: idle, ping: ping, overloadClose: overload),
                credentialExpiry: credentialExpiry
            ),
            rateLimit: rate,
            now: now
        )
    }

    /// Two messages a second, one second of burst (two messages), closed after `closeAfter` in violation.
    static func rate(now: UInt64, closeAfter: Duration = .seconds(1)) -> ConnectionRateLimit {
        ConnectionRateLimit(
            GatewayLimits(messagesPerSecond: 2, burstSeconds: 1, rateViolationClose: closeAfter),
            now: now
        )!
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
        check(machine.readRequested(), true)
        check(machine.takeRequestedRead(), false)  // none was held back
        check(machine.bytesArrived(), .process)
        #expect(machine.mayProcess)
        #expect(machine.acceptsData)
    }

    @Test func aReadWhilePausedIsHeldBackUntilEveryReasonIsGone() {
        var machine = Self.machine(wantsAcks: true, window: 1)
        check(machine.becameUnwritable(), .paused)
        check(machine.readRequested(), false)
        Self.push(&machine)
        check(machine.admit(), .wait(.unchanged))  // already paused for backpressure
        check(machine.takeRequestedRead(), false)
        check(machine.becameWritable(), .resume(.unchanged))  // acks still in flight
        check(machine.takeRequestedRead(), false)
        check(machine.acknowledge(sequence: 1) != nil, true)
        check(machine.acknowledgementsFlushed(), .resume(.resumed))
        check(machine.takeRequestedRead(), true)
        check(machine.takeRequestedRead(), false)  // once
    }

    @Test func unwritableStopsReadingButNotProcessing() {
        var machine = Self.machine()
        check(machine.becameUnwritable(), .paused)
        #expect(machine.mayProcess)
        check(machine.readRequested(), false)
        #expect(!machine.isBlocked)
    }

    @Test func resumingAReasonNotPausedDoesNothing() {
        var machine = Self.machine(wantsAcks: true)
        check(machine.becameWritable(), .none)
        check(machine.ringHasSpace(), .none)
        check(machine.rateTimerFired(now: 2_000), .none)
        check(machine.acknowledgementsFlushed(), .none)
        #expect(machine.flow.reasons.isEmpty)
    }

    @Test func thePausedGaugeFollowsBackpressureOnly() {
        var machine = Self.machine(wantsAcks: true, window: 1, rate: Self.rate(now: 1_000))
        check(machine.beginDraining(), .unchanged)
        _ = machine.admitByRate(bytes: 1)
        _ = machine.admitByRate(bytes: 1)
        check(machine.admitByRate(bytes: 1), false)
        guard case .pause = machine.rateExhausted(bytes: 1, now: 1_000) else {
            Issue.record("expected a rate pause")
            return
        }
        #expect(machine.flow.contains(.rateLimited))
        check(machine.ringStillFull(), .paused)
        check(machine.becameUnwritable(), .unchanged)
        check(machine.becameWritable(), .resume(.unchanged))
        check(machine.ringHasSpace(), .resume(.resumed))
        check(machine.rateTimerFired(now: 1_000 + Self.second), .resume(.unchanged))
        #expect(machine.flow.reasons == .draining)
    }

    @Test func aHandlerAddedWhileDrainingDoesNotRead() {
        var machine = Self.machine()
        check(machine.added(draining: true), .unchanged)
        check(machine.readRequested(), false)
        #expect(machine.mayProcess)  // what was read is still handled
        var other = Self.machine()
        check(other.added(draining: false), .unchanged)
        check(other.readRequested(), true)
    }

    // MARK: admission: ack window

    @Test func theAckWindowPausesAndResumesAtHalf() {
        var machine = Self.machine(wantsAcks: true, window: 4)
        for expected in 1...4 { #expect(Self.push(&machine) == UInt32(expected)) }
        check(machine.admit(), .wait(.paused))
        #expect(!machine.mayProcess)
        #expect(machine.isBlocked)
        check(machine.acknowledge(sequence: 1), PendingAck(id: .number(1), acceptedAt: 0))
        check(machine.acknowledgementsFlushed(), .none)  // 3 outstanding > 4 / 2
        check(machine.acknowledge(sequence: 2) != nil, true)
        check(machine.acknowledgementsFlushed(), .resume(.resumed))
        check(machine.admit(), .push(sequence: 5))
    }

    @Test func withoutAcksNothingIsPendingAndTheWindowNeverFills() {
        var machine = Self.machine(wantsAcks: false, window: 1)
        for expected in 1...10 {
            check(machine.admit(), .push(sequence: UInt32(expected)))
            check(machine.pushed(sequence: UInt32(expected)), nil)
        }
        #expect(machine.acks.inFlight == 0)
        check(machine.acknowledge(sequence: 1), nil)
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
        check(machine.pushed(sequence: 1), 1)
        check(machine.pushed(sequence: 2), 2)
        #expect(machine.acks.sequence == 2)
    }

    @Test func anAckForAnUnknownOrAnsweredSequenceIsIgnored() {
        var machine = Self.machine(wantsAcks: true)
        let sequence = Self.push(&machine, acceptedAt: 42)
        check(machine.acknowledge(sequence: sequence + 1), nil)
        check(machine.acknowledge(sequence: sequence), PendingAck(id: .number(1), acceptedAt: 42))
        check(machine.acknowledge(sequence: sequence), nil)
    }

    @Test func clientIDsAreKeptAsGiven() {
        var machine = Self.machine(wantsAcks: true)
        guard case .push(let sequence) = machine.admit(), let _ = machine.pushed(sequence: sequence) else {
            Issue.record("not admitted")
            return
        }
        machine.awaitAck(sequence: sequence, PendingAck(id: .clientID(Array("\"a\"".utf8)), acceptedAt: 7))
        check(machine.acknowledge(sequence: sequence)?.id, .clientID(Array("\"a\"".utf8)))
    }

    // MARK: ring space

    @Test func aFullRingRegistersOnceThenPausesUntilSpace() {
        var machine = Self.machine()
        check(machine.ringFull(), true)  // register, then push once more
        #expect(machine.waitingForSpace)
        check(machine.ringStillFull(), .paused)
        #expect(!machine.mayProcess)
        check(machine.readRequested(), false)
        #expect(machine.isBlocked)
        check(machine.ringFull(), false)  // still registered: no second registration
        check(machine.ringHasSpace(), .resume(.resumed))
        #expect(!machine.waitingForSpace)
        check(machine.takeRequestedRead(), true)
        check(machine.ringFull(), true)  // woken: the ring forgot us, register again
    }

    @Test func aFullRingThatFreedSpaceBeforeTheSecondPushDoesNotPause() {
        var machine = Self.machine()
        check(machine.ringFull(), true)
        // the second push succeeded
        check(machine.pushed(sequence: 1), nil)
        #expect(machine.mayProcess)
        check(machine.readRequested(), true)
    }

    // MARK: rate limit

    @Test func withoutARateEveryMessagePassesAndNoClockIsNeeded() {
        var machine = Self.machine()
        check(machine.bytesArrived(), .process)
        for _ in 0..<1000 { check(machine.admitByRate(bytes: 100), true) }
        check(machine.rateExhausted(bytes: 1, now: 5), .admit)
    }

    @Test func overTheRatePausesThenResumes() {
        let start: UInt64 = 1_000
        var machine = Self.machine(rate: Self.rate(now: start))
        check(machine.bytesArrived(), .refillRateThenProcess)
        check(machine.admitByRate(bytes: 10), true)
        check(machine.admitByRate(bytes: 10), true)
        check(machine.admitByRate(bytes: 10), false)
        // 0.6 s later the bucket holds 1.2 tokens
        let later = start + Self.second * 6 / 10
        check(machine.rateExhausted(bytes: 10, now: later), .admit)
        check(machine.admitByRate(bytes: 10), false)
        guard case .pause(let wait) = machine.rateExhausted(bytes: 10, now: later) else {
            Issue.record("expected a pause")
            return
        }
        #expect((Self.second * 4 / 10 - 1000...Self.second * 4 / 10 + 1000).contains(wait))  // 0.8 token at 2/s
        #expect(!machine.mayProcess)
        #expect(machine.isBlocked)
        check(machine.readRequested(), false)
        check(machine.readFinished(), .none)
        check(machine.rateTimerFired(now: start + 2 * Self.second), .resume(.unchanged))
        check(machine.takeRequestedRead(), true)
        check(machine.admitByRate(bytes: 10), true)
    }

    @Test func aMessageLeftForLaterGivesItsTokensBack() {
        var machine = Self.machine(rate: Self.rate(now: 0))
        check(machine.admitByRate(bytes: 1), true)
        check(machine.admitByRate(bytes: 1), true)
        machine.giveBackRate(bytes: 1)
        check(machine.admitByRate(bytes: 1), true)
        check(machine.admitByRate(bytes: 1), false)
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
        check(machine.admitByRate(bytes: 1), true)
        check(machine.admitByRate(bytes: 1), false)
        let late = start + Self.second * 11 / 10
        check(machine.rateExhausted(bytes: 1, now: late), .admit)  // refilled, but never full again
        check(machine.rateExhausted(bytes: 1, now: late), .closeAfterRead)  // in violation for 1.1 s
        check(machine.readFinished(), .closeForRate)
        check(machine.readFinished(), .none)  // once
        check(machine.closePolitely(.rateLimited), .close(.rateLimited, .unchanged))
    }

    @Test func refusingAtShutdownSkipsTheRate() {
        var machine = Self.machine(wantsAcks: true, window: 1, rate: Self.rate(now: 0))
        _ = machine.admitByRate(bytes: 1)
        _ = machine.admitByRate(bytes: 1)
        check(machine.admitByRate(bytes: 1), false)
        _ = machine.refuseBlockedInput()
        check(machine.admitByRate(bytes: 1), true)
    }

    // MARK: invalid text

    @Test func invalidTextFailsOnceTheReaderReturned() {
        var machine = Self.machine()
        machine.invalidText()
        check(machine.readFinished(), .failInvalidText)
        check(machine.readFinished(), .none)
    }

    // MARK: liveness

    @Test func aSilentClientIsPingedThenClosedForIdleness() {
        let t: UInt64 = 1_000
        var machine = Self.machine(idle: 10, ping: 4, now: t)
        check(machine.sweep(now: t + 3), .nothing)
        check(machine.sweep(now: t + 5), .ping)
        check(machine.sweep(now: t + 6), .nothing)  // pinged less than an interval ago
        check(machine.sweep(now: t + 9), .ping)
        check(machine.sweep(now: t + 10), .close(.idleTimeout))
    }

    @Test func anExpiredCredentialClosesAtTheFirstSweepPastItsExpiry() {
        let t: UInt64 = 1_000
        var machine = Self.machine(idle: 100, credentialExpiry: t + 20, now: t)
        #expect(machine.credentialExpires)
        check(machine.bytesArrived(), .process)  // being busy does not keep it open
        check(machine.sweep(now: t + 19), .nothing)
        check(machine.sweep(now: t + 20), .close(.credentialExpired))
        #expect(!Self.machine(now: t).credentialExpires)
    }

    @Test func bytesFromTheClientResetItsSilence() {
        let t: UInt64 = 1_000
        var machine = Self.machine(idle: 10, now: t)
        check(machine.bytesArrived(), .process)
        check(machine.sweep(now: t + 8), .nothing)
        check(machine.sweep(now: t + 17), .nothing)
        check(machine.sweep(now: t + 18), .close(.idleTimeout))
    }

    @Test func aClientWeDoNotReadIsNotSilent() {
        let t: UInt64 = 1_000
        var machine = Self.machine(idle: 10, now: t)
        check(machine.ringFull(), true)
        _ = machine.ringStillFull()
        check(machine.sweep(now: t + 100), .nothing)
        _ = machine.ringHasSpace()
        check(machine.sweep(now: t + 109), .nothing)
        check(machine.sweep(now: t + 110), .close(.idleTimeout))
    }

    @Test func blockedByKafkaWithoutProgressClosesAsOverloaded() {
        let t: UInt64 = 1_000
        var machine = Self.machine(overload: 10, now: t)
        _ = machine.ringFull()
        _ = machine.ringStillFull()
        check(machine.sweep(now: t + 1), .nothing)  // blocked since t + 1
        check(machine.sweep(now: t + 10), .nothing)
        check(machine.sweep(now: t + 11), .close(.overloaded))
    }

    @Test func progressWhileBlockedRestartsTheOverloadClock() {
        let t: UInt64 = 1_000
        var machine = Self.machine(wantsAcks: true, window: 1, overload: 10, now: t)
        Self.push(&machine)
        check(machine.admit(), .wait(.paused))
        check(machine.sweep(now: t + 1), .nothing)  // sequence moved since the last sweep (0 → 1)
        check(machine.sweep(now: t + 2), .nothing)  // blocked since t + 2
        _ = machine.acknowledge(sequence: 1)
        _ = machine.acknowledgementsFlushed()
        Self.push(&machine)
        check(machine.admit(), .wait(.paused))
        check(machine.sweep(now: t + 12), .nothing)  // progress: not blocked since t + 2 any more
        check(machine.sweep(now: t + 13), .nothing)
        check(machine.sweep(now: t + 23), .close(.overloaded))
    }

    @Test func aPingDueInTheSweepThatClosesForOverloadGoesFirst() {
        var liveness = ConnectionLiveness(timeouts: .init(idle: 0, ping: 5, overloadClose: 5), now: 0)
        check(liveness.sweep(now: 1, notReadByUs: false, blockedByKafka: true, sequence: 0), .nothing)
        check(
            liveness.sweep(now: 6, notReadByUs: false, blockedByKafka: true, sequence: 0),
            .pingThenClose(.overloaded)
        )
    }

    @Test func noSweepWhileDrainingOrClosing() {
        var draining = Self.machine(idle: 1, now: 0)
        _ = draining.beginDraining()
        check(draining.sweep(now: 100), .nothing)
        var closing = Self.machine(idle: 1, now: 0)
        _ = closing.closePolitely(.shuttingDown)
        check(closing.sweep(now: 100), .nothing)
    }

    // MARK: shutdown

    @Test func drainingStopsReadsOnly() {
        var machine = Self.machine()
        check(machine.beginDraining(), .unchanged)
        check(machine.readRequested(), false)
        #expect(machine.mayProcess)
        #expect(!machine.isBlocked)
    }

    @Test func refusingBlockedInputLiftsTheProcessingPausesAndRefusesEveryMessage() {
        var machine = Self.machine(wantsAcks: true, window: 1)
        _ = machine.beginDraining()
        Self.push(&machine)
        check(machine.admit(), .wait(.paused))
        #expect(machine.isBlocked)
        check(machine.refuseBlockedInput(), .resumed)
        #expect(machine.refusingInput)
        #expect(machine.mayProcess)
        #expect(!machine.isBlocked)
        check(machine.admit(), .refuse(nackNumber: 2))
        check(machine.admit(), .refuse(nackNumber: 3))
        #expect(machine.flow.reasons == .draining)
    }

    @Test func refusedMessagesOfAClientWithoutAcksGetNoNack() {
        var machine = Self.machine(wantsAcks: false)
        _ = machine.refuseBlockedInput()
        check(machine.admit(), .refuse(nackNumber: nil))
    }

    // MARK: close handshake

    @Test func aPoliteCloseKeepsReadingForTheClientsClose() {
        var machine = Self.machine()
        _ = machine.ringFull()
        check(machine.ringStillFull(), .paused)
        _ = machine.beginDraining()
        check(machine.readRequested(), false)
        check(machine.closePolitely(.shuttingDown), .close(.shuttingDown, .resumed))
        #expect(machine.state == .closeSent)
        #expect(machine.flow.reasons.isEmpty)
        check(machine.takeRequestedRead(), true)
        #expect(!machine.acceptsData)  // data after our close is discarded
        check(machine.bytesArrived(), .process)  // but read, for the close frame
        check(machine.peerClosed(), false)  // no echo: ours was sent
        #expect(machine.state == .closed)
    }

    @Test func aPoliteCloseKeepsAnUnwritablePause() {
        var machine = Self.machine()
        _ = machine.becameUnwritable()
        check(machine.closePolitely(.idleTimeout), .close(.idleTimeout, .unchanged))
        #expect(machine.flow.reasons == .unwritable)
    }

    @Test func onlyAnOpenConnectionClosesPolitely() {
        var machine = Self.machine()
        check(machine.closePolitely(.overloaded), .close(.overloaded, .unchanged))
        check(machine.closePolitely(.shuttingDown), .none)
        var failed = Self.machine()
        check(failed.failed(), true)
        check(failed.closePolitely(.rateLimited), .none)
        var peerClosed = Self.machine()
        check(peerClosed.peerClosed(), true)
        check(peerClosed.closePolitely(.idleTimeout), .none)
    }

    @Test func thePeersCloseIsEchoedOnlyWhileOpen() {
        var machine = Self.machine()
        check(machine.peerClosed(), true)
        #expect(machine.state == .closed)
        check(machine.peerClosed(), false)
        check(machine.bytesArrived(), .discard)
    }

    @Test func aViolationSendsOurCloseOnlyWhileOpen() {
        var open = Self.machine()
        check(open.failed(), true)
        #expect(open.state == .closed)
        var closing = Self.machine()
        _ = closing.closePolitely(.idleTimeout)
        check(closing.failed(), false)
        #expect(closing.state == .closed)
        check(closing.failed(), false)
    }

    @Test func afterTheCloseEventsDoNothing() {
        var machine = Self.machine(wantsAcks: true)
        let sequence = Self.push(&machine)
        check(machine.peerClosed(), true)
        check(machine.bytesArrived(), .discard)
        #expect(!machine.acceptsData)
        check(machine.acknowledge(sequence: sequence), nil)
        check(machine.sweep(now: .max), .nothing)
        check(machine.closePolitely(.shuttingDown), .none)
        #expect(!machine.isBlocked)
    }

    @Test func cleanUpHappensOnceAndForgetsEverything() {
        var machine = Self.machine(wantsAcks: true)
        let sequence = Self.push(&machine)
        _ = machine.ringFull()
        _ = machine.ringStillFull()
        check(machine.cleanUp(), .cleanUp(removeWaiter: true, .resumed))
        check(machine.cleanUp(), .none)
        #expect(machine.state == .closed)
        #expect(machine.acks.inFlight == 0)
        check(machine.acknowledge(sequence: sequence), nil)
        check(machine.bytesArrived(), .discard)
        var idle = Self.machine()
        check(idle.cleanUp(), .cleanUp(removeWaiter: false, .unchanged))
    }
}

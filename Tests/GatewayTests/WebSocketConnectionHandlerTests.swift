import Access
import ChatContract
import Foundation
import Ingest
import Monitoring
import NIOCore
import TestSupport
import Testing

@testable import Gateway

#if canImport(Glibc)
import Glibc
#endif

/// The connection handler in an `EmbeddedChannel`: frames in, ring records and frames out, reads passed on
/// or held back. Each test is synchronous, so the embedded loop stays on the test's thread.
@Suite("WebSocket connection handler")
struct WebSocketConnectionHandlerTests {
    static let hello = #"{"sender":"ann","text":"hi","tag":"t"}"#

    static func message(_ number: Int, id: String? = nil, text: String = "hi") -> String {
        #"{"sender":"ann","text":"\#(text) \#(number)","tag":"t""# + (id.map { #","id":\#($0)"# } ?? "") + "}"
    }

    /// Records the test put in the ring itself (`fillRing`) are not messages.
    static func messages(_ records: [(record: String, ticket: MessageTicket, tag: UInt32)]) -> [String] {
        records.map(\.record).filter { $0.hasPrefix("{") }
    }

    // MARK: messages

    @Test func aTextMessageGoesToTheRingInCanonicalForm() throws {
        let connection = try ConnectionUnderTest()
        try connection.sendText(#"{"tag":"t","text":"hi","sender":"ann"}"#)
        let records = connection.drainRing()
        #expect(records.map(\.record) == [Self.hello])
        #expect(records.first?.ticket.sequence == 1)
        #expect(records.first?.ticket.wantsAck == false)
        #expect(records.first?.tag == 0)  // no sender keys
        #expect(try connection.written().isEmpty)
        #expect(connection.counters.accepted == 1)
    }

    @Test func messagesOfOneReadAreAllPushedInOrder() throws {
        let connection = try ConnectionUnderTest()
        try connection.send(
            ClientFrameEncoder.text(Self.message(1)),
            ClientFrameEncoder.text(Self.message(2)),
            ClientFrameEncoder.text(Self.message(3))
        )
        let records = connection.drainRing()
        #expect(records.map(\.record) == [Self.message(1), Self.message(2), Self.message(3)])
        #expect(records.map(\.ticket.sequence) == [1, 2, 3])
    }

    /// A read that ends inside a frame: the next read completes it (the handler takes only the missing
    /// bytes from it) and the rest of that read is parsed where it lies. Every cut point, header included,
    /// with frames of the 7-bit and the 16-bit length form, and a third read after the second.
    @Test func framesCutByReadsAtAnyPointArriveWhole() throws {
        let long = Self.message(2, text: String(repeating: "x", count: 300))
        let stream =
            ClientFrameEncoder.text(Self.message(1)) + ClientFrameEncoder.text(long)
            + ClientFrameEncoder.text(Self.message(3))
        for cut in 1..<stream.count {
            let second = min(stream.count, cut + 7 + cut % 50)
            let connection = try ConnectionUnderTest()
            try connection.send(Array(stream[..<cut]))
            try connection.send(Array(stream[cut..<second]))
            if second < stream.count { try connection.send(Array(stream[second...])) }
            let records = Self.messages(connection.drainRing())
            #expect(records == [Self.message(1), long, Self.message(3)], "cut at \(cut) and \(second)")
        }
    }

    @Test func aFrameCompletedWhileTheRingIsFullWaitsWithTheRestOfTheRead() throws {
        let connection = try ConnectionUnderTest()
        let stream = ClientFrameEncoder.text(Self.message(1)) + ClientFrameEncoder.text(Self.message(2))
        try connection.send(Array(stream[..<5]))
        connection.fillRing()
        try connection.send(Array(stream[5...]))
        #expect(connection.counters.accepted == 0)
        _ = connection.drainRing(wake: true)
        #expect(Self.messages(connection.drainRing()) == [Self.message(1), Self.message(2)])
    }

    /// Reads that come while processing is paused are kept as they came and parsed in order on resume,
    /// frames cut between them included.
    @Test func readsWhilePausedAreParsedInOrderOnResume() throws {
        let connection = try ConnectionUnderTest()
        connection.fillRing()
        let stream = (1...6).map { ClientFrameEncoder.text(Self.message($0)) }.reduce([], +)
        let cuts = [0, 7, stream.count / 3, stream.count / 2 + 5, stream.count - 3, stream.count]
        for (start, end) in zip(cuts, cuts.dropFirst()) {
            try connection.send(Array(stream[start..<end]))
        }
        #expect(connection.counters.accepted == 0)
        #expect(connection.handler.hasBlockedInput)
        _ = connection.drainRing(wake: true)
        #expect(Self.messages(connection.drainRing()) == (1...6).map { Self.message($0) })
        #expect(!connection.handler.hasBlockedInput)
    }

    @Test func senderKeysTagTheRecordWithTheSenderTokenLength() throws {
        var configuration = GatewayConfiguration()
        configuration.keyPolicy = .sender
        let connection = try ConnectionUnderTest(configuration: configuration)
        try connection.sendText(Self.hello)
        try connection.sendText(#"{"sender":"a\"b","text":"x","tag":"t"}"#)
        let tags = connection.drainRing().map(\.tag)
        #expect(tags == [5, 6 | ChatMessage.senderKeyTagEscapedBit])
    }

    @Test func anInvalidMessageIsAnsweredWithAnErrorAndNotQueued() throws {
        let connection = try ConnectionUnderTest()
        try connection.sendText(#"{"id":7,"sender":"ann","text":"hi"}"#)
        let frames = try connection.written()
        #expect(frames.count == 1)
        #expect(frames.first?.opcode == ServerFrame.text)
        #expect(frames.first?.text.hasPrefix(#"{"error":{"code":"invalid_message","reason":"#) == true)
        #expect(frames.first?.text.hasSuffix(#"},"id":7}"#) == true)
        #expect(connection.drainRing().isEmpty)
        #expect(connection.counters.rejected == 1)
        #expect(connection.isOpen)
    }

    @Test func aBinaryMessageIsRefused() throws {
        let connection = try ConnectionUnderTest()
        try connection.send(ClientFrameEncoder.binary([1, 2, 3]))
        #expect(
            try connection.written().map(\.text)
                == [
                    #"{"error":{"code":"unsupported_frame","message":"binary frames are not accepted; send each message as a JSON text frame"}}"#
                ]
        )
        #expect(connection.drainRing().isEmpty)
    }

    @Test func aPingIsAnsweredWithItsPayload() throws {
        let connection = try ConnectionUnderTest()
        try connection.send(ClientFrameEncoder.ping([1, 2, 3]))
        #expect(try connection.written() == [ServerFrame(opcode: ServerFrame.pong, payload: [1, 2, 3])])
    }

    // MARK: acks

    @Test func deliveryResultsAreAckedAndNacked() throws {
        let connection = try ConnectionUnderTest(acks: true)
        try connection.send(
            ClientFrameEncoder.text(Self.message(1, id: #""m1""#)),
            ClientFrameEncoder.text(Self.message(2))
        )
        let tickets = connection.drainRing().map(\.ticket)
        #expect(tickets.map(\.wantsAck) == [true, true])
        #expect(try connection.written().isEmpty)
        connection.deliver([
            DeliveryResult(ticket: tickets[0], partition: 3, offset: 42, failure: nil),
            DeliveryResult(ticket: tickets[1], partition: 0, offset: -1, failure: DeliveryFailure(code: -192)),
        ])
        let replies = try connection.written().map(\.text)
        #expect(replies.count == 2)
        #expect(replies.first == #"{"ack":"m1","partition":3,"offset":42}"#)
        #expect(replies.last?.hasPrefix(#"{"nack":2,"error":{"code":"MSG_TIMED_OUT","message":"#) == true)
        #expect(replies.last?.hasSuffix(#","retriable":true}"#) == true)
        // a second report for the same message finds nothing to answer
        connection.deliver([DeliveryResult(ticket: tickets[0], partition: 3, offset: 42, failure: nil)])
        #expect(try connection.written().isEmpty)
    }

    @Test func aFullAckWindowStopsReadsUntilHalfIsAcked() throws {
        var configuration = GatewayConfiguration()
        configuration.maxAcksInFlight = 2
        let connection = try ConnectionUnderTest(acks: true, configuration: configuration)
        try connection.send(
            ClientFrameEncoder.text(Self.message(1)),
            ClientFrameEncoder.text(Self.message(2)),
            ClientFrameEncoder.text(Self.message(3))
        )
        let tickets = connection.drainRing().map(\.ticket)
        #expect(tickets.count == 2)
        #expect(connection.connections.paused == 1)
        #expect(!connection.read())
        #expect(connection.handler.hasBlockedInput)
        connection.deliver([DeliveryResult(ticket: tickets[0], partition: 0, offset: 1, failure: nil)])
        #expect(connection.connections.paused == 0)
        #expect(connection.reads == 1)  // the held-back read
        #expect(Self.messages(connection.drainRing()) == [Self.message(3)])
    }

    // MARK: backpressure

    @Test func aFullRingStopsReadsUntilSpaceIsFreed() throws {
        let connection = try ConnectionUnderTest()
        #expect(connection.read())
        connection.fillRing()
        try connection.sendText(Self.message(1))
        #expect(connection.counters.accepted == 0)
        #expect(connection.counters.backpressurePauses == 1)
        #expect(connection.connections.paused == 1)
        #expect(!connection.read())
        #expect(!connection.read())
        #expect(connection.handler.hasBlockedInput)
        // more bytes while paused wait behind the blocked message
        try connection.sendText(Self.message(2))
        #expect(connection.counters.accepted == 0)

        #expect(Self.messages(connection.drainRing(wake: true)).isEmpty)
        #expect(connection.counters.accepted == 2)
        #expect(connection.connections.paused == 0)
        #expect(connection.reads == 2)  // the first read, then the one held back (once)
        #expect(!connection.handler.hasBlockedInput)
        #expect(Self.messages(connection.drainRing()) == [Self.message(1), Self.message(2)])
        #expect(connection.read())
    }

    @Test func aFragmentedMessageHeldByTheReaderIsPushedWithoutNewBytes() throws {
        let connection = try ConnectionUnderTest()
        connection.fillRing()
        let message = Array(Self.message(1).utf8)
        try connection.send(
            ClientFrameEncoder.frame(opcode: 0x1, Array(message[..<10]), fin: false),
            ClientFrameEncoder.continuation(Array(message[10...]), fin: true)
        )
        #expect(connection.counters.accepted == 0)
        #expect(connection.handler.hasBlockedInput)  // in the reader, not in the input
        _ = connection.drainRing(wake: true)
        #expect(connection.counters.accepted == 1)
        #expect(Self.messages(connection.drainRing()) == [Self.message(1)])
        #expect(!connection.handler.hasBlockedInput)
    }

    @Test func anUnwritableChannelStopsReadsNotProcessing() throws {
        let connection = try ConnectionUnderTest()
        connection.channel.isWritable = false
        connection.channel.pipeline.fireChannelWritabilityChanged()
        #expect(connection.connections.paused == 1)
        #expect(!connection.read())
        try connection.sendText(Self.message(1))
        #expect(connection.counters.accepted == 1)
        connection.channel.isWritable = true
        connection.channel.pipeline.fireChannelWritabilityChanged()
        #expect(connection.connections.paused == 0)
        #expect(connection.reads == 1)
    }

    @Test func aFlushThatMakesTheChannelWritableReEntersTheHandlerSafely() throws {
        let connection = try ConnectionUnderTest()
        let reentry = WritableOnFlush()
        try connection.channel.pipeline.syncOperations.addHandler(reentry, position: .first)
        connection.channel.isWritable = false
        connection.channel.pipeline.fireChannelWritabilityChanged()
        #expect(!connection.read())
        reentry.armed = true
        try connection.send(ClientFrameEncoder.ping([7]), ClientFrameEncoder.text(Self.message(1)))
        #expect(try connection.written() == [ServerFrame(opcode: ServerFrame.pong, payload: [7])])
        #expect(connection.reads == 1)  // resumed from inside the flush
        #expect(connection.connections.paused == 0)
        #expect(connection.counters.accepted == 1)
    }

    // MARK: closing

    @Test func thePeersCloseIsEchoedAndTheChannelClosed() throws {
        let connection = try ConnectionUnderTest()
        try connection.send(ClientFrameEncoder.close(code: 1000, reason: Array("bye".utf8)))
        let frames = try connection.written()
        #expect(frames.map(\.opcode) == [ServerFrame.close])
        #expect(frames.first?.closeCode == 1000)
        #expect(frames.first?.closeReason == "")
        #expect(!connection.isOpen)
        #expect(connection.connections.active == 0)
    }

    @Test func anEmptyCloseIsAnsweredWithAnEmptyClose() throws {
        let connection = try ConnectionUnderTest()
        try connection.send(ClientFrameEncoder.close(code: nil))
        #expect(try connection.written() == [ServerFrame(opcode: ServerFrame.close, payload: [])])
        #expect(!connection.isOpen)
    }

    @Test func aProtocolViolationSendsItsCloseCodeAndClosesTheChannel() throws {
        let connection = try ConnectionUnderTest()
        try connection.send(
            ClientFrameEncoder.text(Self.hello),
            ClientFrameEncoder.frame(opcode: 0x1, [0x41], mask: nil)
        )
        let frames = try connection.written()
        #expect(frames.map(\.opcode) == [ServerFrame.close])
        #expect(frames.first?.closeCode == 1002)
        #expect(frames.first?.closeReason == "client frame is not masked")
        #expect(!connection.isOpen)
        #expect(connection.closes(.protocolError) == 1)
        #expect(Self.messages(connection.drainRing()) == [Self.hello])  // what came before is kept
    }

    @Test func invalidUTF8FailsTheConnectionWith1007() throws {
        let connection = try ConnectionUnderTest()
        try connection.send(
            ClientFrameEncoder.frame(
                opcode: 0x1,
                Array(#"{"sender":""#.utf8) + [0xFF] + Array(#"","text":"x","tag":"t"}"#.utf8)
            )
        )
        let frames = try connection.written()
        #expect(frames.map(\.closeCode) == [1007])
        #expect(frames.first?.closeReason == "text message is not valid UTF-8")
        #expect(!connection.isOpen)
        #expect(connection.closes(.invalidPayload) == 1)
    }

    @Test func aTooBigMessageFailsTheConnectionWith1009() throws {
        var configuration = GatewayConfiguration()
        configuration.maxMessageBytes = 64
        let connection = try ConnectionUnderTest(configuration: configuration)
        try connection.sendText(Self.message(1, text: String(repeating: "x", count: 100)))
        #expect(try connection.written().map(\.closeCode) == [1009])
        #expect(connection.closes(.messageTooBig) == 1)
    }

    // MARK: limits

    @Test func overTheRateForTooLongClosesPolitelyAndReadsOnUntilTheClientsClose() throws {
        var configuration = GatewayConfiguration()
        configuration.limits.messagesPerSecond = 1
        configuration.limits.burstSeconds = 3
        configuration.limits.rateViolationClose = .milliseconds(50)
        let connection = try ConnectionUnderTest(configuration: configuration)
        try connection.send(
            ClientFrameEncoder.text(Self.message(1)),
            ClientFrameEncoder.text(Self.message(2)),
            ClientFrameEncoder.text(Self.message(3)),
            ClientFrameEncoder.text(Self.message(4))
        )
        #expect(connection.counters.accepted == 3)  // the burst
        #expect(connection.connections.rateLimitPauses == 1)
        #expect(connection.connections.paused == 0)  // the client's doing, not backpressure
        #expect(!connection.read())
        #expect(connection.handler.hasBlockedInput)

        usleep(80_000)  // in violation for longer than 50 ms; refilled less than one token (1/s)
        connection.loop.advanceTime(by: .seconds(2))  // the pause's timer
        let frames = try connection.written()
        #expect(frames.map(\.closeCode) == [1008])
        #expect(frames.first?.closeReason == "rate limit exceeded for more than 0.05 seconds: at most 1 messages/s")
        #expect(connection.closes(.rateLimited) == 1)
        #expect(connection.isOpen)  // polite: the client's close is awaited
        #expect(connection.reads == 1)  // and read for

        try connection.sendText(Self.message(5))  // discarded after our close
        #expect(try connection.written().isEmpty)
        #expect(connection.counters.accepted == 3)
        try connection.send(ClientFrameEncoder.close(code: 1008))
        #expect(try connection.written().isEmpty)  // ours was sent: no echo
        #expect(!connection.isOpen)
    }

    @Test func aSilentClientIsPingedThenClosed() throws {
        var configuration = GatewayConfiguration()
        configuration.limits.idleTimeout = .seconds(10)
        configuration.limits.pingInterval = .seconds(4)
        let connection = try ConnectionUnderTest(configuration: configuration)
        let now = MonotonicClock.nanoseconds()
        connection.handler.sweep(now: now + 5_000_000_000)
        #expect(try connection.written() == [ServerFrame(opcode: ServerFrame.ping, payload: [])])
        connection.handler.sweep(now: now + 11_000_000_000)
        let frames = try connection.written()
        #expect(frames.map(\.closeCode) == [1001])
        #expect(frames.first?.closeReason == "idle timeout: nothing received for 10.0 seconds")
        #expect(connection.closes(.idleTimeout) == 1)
        connection.loop.advanceTime(by: .seconds(2))  // the close timeout: the client never answered
        #expect(!connection.isOpen)
    }

    @Test func aConnectionWhoseTokenExpiredIsClosedWith1008() throws {
        let grant = AccessGrant(
            kind: .jwt,
            scope: .anyChat,
            fingerprint: "sha256:00000000",
            subject: nil,
            expiresAt: Date().addingTimeInterval(30),
            credential: .jwt("a.b.c")
        )
        let connection = try ConnectionUnderTest(grant: grant)
        let now = MonotonicClock.nanoseconds()
        connection.handler.sweep(now: now + 20_000_000_000)
        #expect(try connection.written().isEmpty)
        try connection.sendText(Self.hello)
        connection.handler.sweep(now: now + 31_000_000_000)
        let frames = try connection.written()
        #expect(frames.map(\.closeCode) == [1008])
        #expect(frames.first?.closeReason == "token expired: reconnect with a fresh token to go on sending")
        #expect(connection.closes(.credentialExpired) == 1)
        #expect(Self.messages(connection.drainRing()) == [Self.hello])  // what came before it was taken
    }

    @Test func blockedByKafkaPastTheOverloadTimeoutCloses() throws {
        var configuration = GatewayConfiguration()
        configuration.limits.overloadClose = .seconds(1)
        let connection = try ConnectionUnderTest(configuration: configuration)
        connection.fillRing()
        try connection.sendText(Self.message(1))
        let now = MonotonicClock.nanoseconds()
        connection.handler.sweep(now: now)
        #expect(try connection.written().isEmpty)
        connection.handler.sweep(now: now + 1_000_000_000)
        let frames = try connection.written()
        #expect(frames.map(\.closeCode) == [1013])
        #expect(frames.first?.closeReason == "overloaded: no message could be queued for 1.0 seconds; try again later")
        #expect(connection.closes(.overloaded) == 1)
        #expect(connection.connections.paused == 0)
    }

    // MARK: shutdown

    @Test func theShutdownSequenceRefusesBlockedMessagesThenSaysGoodbye() throws {
        let connection = try ConnectionUnderTest(acks: true)
        connection.fillRing()
        try connection.send(
            ClientFrameEncoder.text(Self.message(1, id: #""s1""#)),
            ClientFrameEncoder.text(Self.message(2))
        )
        connection.handler.beginDraining()
        #expect(!connection.read())
        #expect(connection.handler.hasBlockedInput)

        connection.handler.refuseBlockedInput()
        let shuttingDown =
            #","error":{"code":"shutting_down","message":"the server shut down before this message could be queued"},"retriable":true}"#
        #expect(
            try connection.written().map(\.text) == [#"{"nack":"s1""# + shuttingDown, #"{"nack":2"# + shuttingDown]
        )
        #expect(connection.counters.refusedAtShutdown == 2)
        #expect(!connection.handler.hasBlockedInput)
        #expect(connection.connections.paused == 0)

        connection.handler.closeForShutdown()
        let frames = try connection.written()
        #expect(frames.map(\.closeCode) == [1001])
        #expect(frames.first?.closeReason == "server shutting down")
        #expect(connection.closes(.shuttingDown) == 1)
        #expect(connection.reads == 1)  // reading on for the client's close
        connection.handler.closeForShutdown()  // once
        #expect(try connection.written().isEmpty)
        try connection.send(ClientFrameEncoder.close(code: 1001))
        #expect(try connection.written().isEmpty)
        #expect(!connection.isOpen)
    }

    @Test func drainingStopsReadsButHandlesWhatWasRead() throws {
        let connection = try ConnectionUnderTest()
        connection.handler.beginDraining()
        #expect(!connection.read())
        try connection.sendText(Self.message(1))  // a read already under way is still handled
        #expect(connection.counters.accepted == 1)
        #expect(!connection.handler.hasBlockedInput)
    }

    @Test func whileDrainingAHandshakeGets503UnlessTheListenerOutlivesTheProcess() throws {
        let own = try ConnectionUnderTest(draining: true)
        #expect(own.gateway.admissionRefusal()?.status == .serviceUnavailable)
        var configuration = GatewayConfiguration()
        configuration.listenerOutlivesProcess = true
        let shared = try ConnectionUnderTest(configuration: configuration, draining: true)
        #expect(shared.gateway.admissionRefusal() == nil)
    }

    @Test func upgradedWhileDrainingWithASharedListenerItGoesAwayAtOnce() throws {
        var configuration = GatewayConfiguration()
        configuration.listenerOutlivesProcess = true
        let connection = try ConnectionUnderTest(configuration: configuration, draining: true)
        connection.loop.run()
        let frames = try connection.written()
        #expect(frames.map(\.closeCode) == [1001])
        #expect(frames.first?.closeReason == "server shutting down")
        #expect(connection.closes(.shuttingDown) == 1)
        try connection.send(ClientFrameEncoder.close(code: 1001))
        #expect(!connection.isOpen)
    }

    @Test func aClosedConnectionLetsGoOfItsSlotAndRing() throws {
        let connection = try ConnectionUnderTest()
        connection.fillRing()
        try connection.sendText(Self.message(1))
        #expect(connection.connections.paused == 1)
        #expect(connection.ingest.registry.usage().topics == 1)
        try connection.channel.close().wait()
        #expect(connection.connections.active == 0)
        #expect(connection.connections.paused == 0)
        #expect(connection.gateway.table(for: connection.loop).count == 0)
        _ = connection.drainRing(wake: true)  // the wake finds no waiter
        #expect(connection.counters.accepted == 0)
    }
}

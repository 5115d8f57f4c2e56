import NIOCore
import TestSupport
import Testing

@testable import WebSocketProtocol

@Suite("WebSocketFrameReader")
struct WebSocketFrameReaderTests {
    typealias Encoder = ClientFrameEncoder

    /// Valid UTF-8 of exactly `count` bytes, mostly 2-byte characters so masking and validation both matter.
    static func utf8Text(byteCount count: Int) -> [UInt8] {
        Array((String(repeating: "ü", count: count / 2) + (count % 2 == 1 ? "a" : "")).utf8)
    }

    static func pattern(_ count: Int) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
    }

    // MARK: - Single frames

    @Test(
        "single frame of every length form is delivered whole",
        arguments: [UInt8(0x1), 0x2],
        [0, 125, 126, 65535, 65536]
    )
    func singleFrameLengthForms(opcode: UInt8, length: Int) {
        let payload = opcode == 0x1 ? Self.utf8Text(byteCount: length) : Self.pattern(length)
        let frame = Encoder.frame(opcode: opcode, payload)
        let expectedHeader = length < 126 ? 6 : (length <= 0xFFFF ? 8 : 14)
        #expect(frame.count - payload.count == expectedHeader)

        var harness = ReaderHarness(maxMessageBytes: 65536)
        let outcome = harness.feed(frame)

        #expect(outcome == .needMoreBytes)
        #expect(harness.events == [opcode == 0x1 ? .text(payload) : .binary(payload)])
        #expect(harness.buffer.readableBytes == 0)
    }

    @Test("single-frame payload points into the input, still masked")
    func singleFrameIsZeroCopy() {
        let frame = Encoder.text("zero copy")
        var buffer = ByteBuffer(bytes: frame)
        var reader = WebSocketFrameReader(maxMessageBytes: 1024, maxFragments: 4, validatesTextUTF8: true)
        let inputStart = buffer.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }
        var seen: (address: UInt, maskKey: UInt32, count: Int)?
        let outcome = reader.read(&buffer) { event in
            if case .text(let payload) = event {
                seen = (UInt(bitPattern: payload.bytes.baseAddress), payload.maskKey, payload.count)
            }
            return .consumed
        }
        #expect(outcome == .needMoreBytes)
        #expect(seen?.address == inputStart + 6)
        #expect(seen?.maskKey == Encoder.maskKey(Encoder.defaultMask))
        #expect(seen?.count == 9)
    }

    @Test("non-minimal length encodings are accepted", arguments: [Encoder.LengthForm.extended16, .extended64])
    func nonMinimalLengthAccepted(form: Encoder.LengthForm) {
        var harness = ReaderHarness()
        let outcome = harness.feed(Encoder.frame(opcode: 0x2, [1, 2, 3, 4, 5], lengthForm: form))
        #expect(outcome == .needMoreBytes)
        #expect(harness.events == [.binary([1, 2, 3, 4, 5])])
    }

    @Test("a message of exactly maxMessageBytes is accepted, single or fragmented")
    func exactlyMaxMessageBytes() {
        var harness = ReaderHarness(maxMessageBytes: 100)
        #expect(harness.feed(Encoder.binary(Self.pattern(100))) == .needMoreBytes)
        let fragments = Encoder.binary(Self.pattern(60), fin: false) + Encoder.continuation(Self.pattern(40), fin: true)
        #expect(harness.feed(fragments) == .needMoreBytes)
        #expect(harness.events == [.binary(Self.pattern(100)), .binary(Self.pattern(60) + Self.pattern(40))])
    }

    @Test("a 125-byte ping is accepted")
    func maximalPing() {
        var harness = ReaderHarness()
        #expect(harness.feed(Encoder.ping(Self.pattern(125))) == .needMoreBytes)
        #expect(harness.events == [.ping(Self.pattern(125))])
    }

    @Test("several frames in one buffer are delivered in order")
    func severalFramesInOneBuffer() {
        var harness = ReaderHarness()
        let bytes =
            Encoder.text("one") + Encoder.binary([9, 8, 7]) + Encoder.ping([1]) + Encoder.pong()
            + Encoder.text(String(repeating: "x", count: 300)) + Encoder.text("")
        let outcome = harness.feed(bytes)
        #expect(outcome == .needMoreBytes)
        #expect(
            harness.events == [
                .text("one"), .binary([9, 8, 7]), .ping([1]), .pong,
                .text(String(repeating: "x", count: 300)), .text(""),
            ]
        )
        #expect(harness.buffer.readableBytes == 0)
    }

    @Test("an incomplete trailing frame stays in the buffer")
    func incompleteTrailingFrameIsKept() {
        var harness = ReaderHarness()
        let second = Encoder.text("second")
        let outcome = harness.feed(Encoder.text("first") + second.dropLast(3))
        #expect(outcome == .needMoreBytes)
        #expect(harness.events == [.text("first")])
        #expect(harness.buffer.readableBytes == second.count - 3)
        #expect(harness.feed(Array(second.suffix(3))) == .needMoreBytes)
        #expect(harness.events == [.text("first"), .text("second")])
        #expect(harness.buffer.readableBytes == 0)
    }

    @Test("a stream fed one byte per read gives the same events")
    func byteByByte() {
        let stream =
            Encoder.text("hello") + Encoder.binary(Self.pattern(300)) + Encoder.text("frag", fin: false)
            + Encoder.ping([7]) + Encoder.continuation(Array("ment".utf8), fin: true)
            + Encoder.frame(opcode: 0x2, Self.pattern(3), lengthForm: .extended64)
            + Encoder.close(code: 1000, reason: Array("done".utf8))
        var harness = ReaderHarness()
        var outcomes: [WebSocketReadOutcome] = []
        for byte in stream {
            outcomes.append(harness.feed([byte]))
        }
        #expect(outcomes.dropLast().allSatisfy { $0 == .needMoreBytes })
        #expect(outcomes.last == .closed)
        #expect(
            harness.events == [
                .text("hello"), .binary(Self.pattern(300)), .ping([7]), .text("fragment"),
                .binary(Self.pattern(3)), .close(code: 1000, reason: Array("done".utf8)),
            ]
        )
        #expect(harness.buffer.readableBytes == 0)
    }

    // MARK: - Fragmentation

    @Test("fragmented text with interleaved control frames is reassembled and unmasked")
    func fragmentedTextWithInterleavedPing() {
        var harness = ReaderHarness()
        var reassembledMaskKey: UInt32?
        let bytes =
            Encoder.text("Hel", fin: false) + Encoder.ping(Array("p".utf8))
            + Encoder.frame(opcode: 0x0, Array("lo, ".utf8), fin: false, mask: [1, 2, 3, 4]) + Encoder.pong()
            + Encoder.frame(opcode: 0x0, Array("wörld".utf8), fin: true, mask: [0xAA, 0x55, 0x0F, 0xF0])
        var buffer = ByteBuffer(bytes: bytes)
        var events: [RecordedEvent] = []
        let outcome = harness.reader.read(&buffer) { event in
            if case .text(let payload) = event { reassembledMaskKey = payload.maskKey }
            events.append(RecordedEvent(event))
            return .consumed
        }
        #expect(outcome == .needMoreBytes)
        #expect(events == [.ping(Array("p".utf8)), .pong, .text("Hello, wörld")])
        #expect(reassembledMaskKey == 0)
        #expect(!harness.reader.isReassemblingMessage)
    }

    @Test("fragmented binary across reads, including empty fragments")
    func fragmentedBinaryAcrossReads() {
        var harness = ReaderHarness()
        #expect(harness.feed(Encoder.binary(Self.pattern(200), fin: false)) == .needMoreBytes)
        #expect(harness.reader.isReassemblingMessage)
        #expect(harness.feed(Encoder.continuation([], fin: false)) == .needMoreBytes)
        #expect(harness.feed(Encoder.continuation(Self.pattern(70000), fin: false)) == .needMoreBytes)
        #expect(harness.events.isEmpty)
        #expect(harness.feed(Encoder.continuation([42], fin: true)) == .needMoreBytes)
        #expect(harness.events == [.binary(Self.pattern(200) + Self.pattern(70000) + [42])])
    }

    @Test("a fragmented message of only empty frames is an empty message")
    func emptyFragmentedMessage() {
        var harness = ReaderHarness()
        let outcome = harness.feed(Encoder.text("", fin: false) + Encoder.continuation([], fin: true))
        #expect(outcome == .needMoreBytes)
        #expect(harness.events == [.text([])])
    }

    @Test("the reassembly buffer is kept when small and released when it grew past 64 KiB")
    func reassemblyBufferRetention() {
        var harness = ReaderHarness(maxMessageBytes: 1 << 20)
        #expect(harness.reader.reassemblyCapacity == nil)
        _ = harness.feed(
            Encoder.binary(Self.pattern(1000), fin: false) + Encoder.continuation(Self.pattern(1000), fin: true)
        )
        let kept = harness.reader.reassemblyCapacity
        #expect(kept != nil && kept! >= 2000 && kept! <= WebSocketFrameReader.retainedReassemblyCapacity)
        _ = harness.feed(Encoder.binary([1], fin: false) + Encoder.continuation([2], fin: true))
        #expect(harness.reader.reassemblyCapacity == kept)
        _ = harness.feed(
            Encoder.binary(Self.pattern(70000), fin: false) + Encoder.continuation(Self.pattern(30000), fin: true)
        )
        #expect(harness.reader.reassemblyCapacity == nil)
        #expect(
            harness.events == [
                .binary(Self.pattern(1000) + Self.pattern(1000)), .binary([1, 2]),
                .binary(Self.pattern(70000) + Self.pattern(30000)),
            ]
        )
    }

    // MARK: - Violations

    struct ViolationCase: Sendable, CustomTestStringConvertible {
        var name: String
        var bytes: [UInt8]
        var code: WebSocketCloseCode
        var maxMessageBytes = 1 << 20
        var maxFragments = 16
        var validatesTextUTF8 = true
        var testDescription: String { name }
    }

    static let violationCases: [ViolationCase] = {
        var cases: [ViolationCase] = [
            .init(
                name: "unmasked text frame",
                bytes: Encoder.frame(opcode: 0x1, Array("hi".utf8), mask: nil),
                code: .protocolError
            ),
            .init(name: "unmasked ping", bytes: Encoder.frame(opcode: 0x9, [], mask: nil), code: .protocolError),
            .init(name: "RSV1 set", bytes: Encoder.frame(opcode: 0x1, [], rsv: 0b100), code: .protocolError),
            .init(name: "RSV2 set", bytes: Encoder.frame(opcode: 0x1, [], rsv: 0b010), code: .protocolError),
            .init(name: "RSV3 set", bytes: Encoder.frame(opcode: 0x2, [], rsv: 0b001), code: .protocolError),
            .init(name: "ping with 126-byte payload", bytes: Encoder.ping(pattern(126)), code: .protocolError),
            .init(
                name: "close with 126-byte payload",
                bytes: Encoder.close(code: 1000, reason: Array(repeating: 0x61, count: 124)),
                code: .protocolError
            ),
            .init(name: "fragmented ping", bytes: Encoder.frame(opcode: 0x9, [1], fin: false), code: .protocolError),
            .init(name: "fragmented pong", bytes: Encoder.frame(opcode: 0xA, [], fin: false), code: .protocolError),
            .init(
                name: "fragmented close",
                bytes: Encoder.frame(opcode: 0x8, [0x03, 0xE8], fin: false),
                code: .protocolError
            ),
            .init(
                name: "continuation without a message",
                bytes: Encoder.continuation([1], fin: true),
                code: .protocolError
            ),
            .init(
                name: "non-final continuation without a message",
                bytes: Encoder.continuation([1], fin: false),
                code: .protocolError
            ),
            .init(
                name: "text during fragmented text",
                bytes: Encoder.text("a", fin: false) + Encoder.text("b"),
                code: .protocolError
            ),
            .init(
                name: "binary during fragmented text",
                bytes: Encoder.text("a", fin: false) + Encoder.binary([1]),
                code: .protocolError
            ),
            .init(
                name: "text during fragmented binary",
                bytes: Encoder.binary([1], fin: false) + Encoder.text("b", fin: false),
                code: .protocolError
            ),
            .init(
                name: "64-bit length with the top bit set",
                bytes: Encoder.frame(opcode: 0x2, [], lengthForm: .extended64, declaredLength: 1 << 63),
                code: .protocolError
            ),
            .init(
                name: "single text frame over the limit",
                bytes: Encoder.text(String(repeating: "a", count: 101)),
                code: .messageTooBig,
                maxMessageBytes: 100
            ),
            .init(
                name: "single binary frame over the limit",
                bytes: Encoder.binary(pattern(101)),
                code: .messageTooBig,
                maxMessageBytes: 100
            ),
            .init(
                name: "fragmented message over the limit",
                bytes: Encoder.binary(pattern(60), fin: false) + Encoder.continuation(pattern(41), fin: true),
                code: .messageTooBig,
                maxMessageBytes: 100
            ),
            .init(
                name: "more fragments than allowed",
                bytes: Encoder.binary([1], fin: false) + Encoder.continuation([2], fin: false)
                    + Encoder.continuation([3], fin: false) + Encoder.continuation([4], fin: true),
                code: .messageTooBig,
                maxFragments: 3
            ),
            .init(
                name: "fragmented message when only 1 fragment allowed",
                bytes: Encoder.text("a", fin: false),
                code: .messageTooBig,
                maxFragments: 1
            ),
            .init(
                name: "invalid UTF-8 in a single text frame",
                bytes: Encoder.frame(opcode: 0x1, [0x61, 0xC3, 0x28]),
                code: .invalidFramePayloadData
            ),
            .init(
                name: "single text frame ending inside a character",
                bytes: Encoder.frame(opcode: 0x1, [0x61, 0xE2, 0x82]),
                code: .invalidFramePayloadData
            ),
            .init(
                name: "invalid UTF-8 in a fragment",
                bytes: Encoder.text("ok", fin: false) + Encoder.continuation([0xED, 0xA0, 0x80], fin: false),
                code: .invalidFramePayloadData
            ),
            .init(
                name: "invalid UTF-8 in a fragment with validatesTextUTF8 off",
                bytes: Encoder.frame(opcode: 0x1, [0xFF], fin: false),
                code: .invalidFramePayloadData,
                validatesTextUTF8: false
            ),
            .init(
                name: "fragmented text ending inside a character",
                bytes: Encoder.text("ok", fin: false) + Encoder.continuation([0xF0, 0x9F, 0x98], fin: true),
                code: .invalidFramePayloadData
            ),
            .init(name: "close with a 1-byte payload", bytes: Encoder.frame(opcode: 0x8, [0x03]), code: .protocolError),
            .init(
                name: "close reason not UTF-8",
                bytes: Encoder.close(code: 1000, reason: [0x6F, 0x6B, 0xFF]),
                code: .invalidFramePayloadData
            ),
            .init(
                name: "close reason ending inside a character",
                bytes: Encoder.close(code: 1000, reason: [0xC3]),
                code: .invalidFramePayloadData
            ),
            .init(
                name: "close reason with an overlong form",
                bytes: Encoder.close(code: 1001, reason: [0xC0, 0xAF]),
                code: .invalidFramePayloadData
            ),
        ]
        for opcode: UInt8 in [3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF] {
            cases.append(
                .init(name: "unknown opcode \(opcode)", bytes: Encoder.frame(opcode: opcode, [1]), code: .protocolError)
            )
        }
        for code: UInt16 in [0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535] {
            cases.append(.init(name: "close code \(code)", bytes: Encoder.close(code: code), code: .protocolError))
        }
        return cases
    }()

    @Test("protocol violations are reported with the right close code", arguments: violationCases)
    func violation(_ testCase: ViolationCase) {
        var harness = ReaderHarness(
            maxMessageBytes: testCase.maxMessageBytes,
            maxFragments: testCase.maxFragments,
            validatesTextUTF8: testCase.validatesTextUTF8
        )
        let outcome = harness.feed(testCase.bytes)
        guard case .violation(let code, let reason) = outcome else {
            Issue.record("expected a violation, got \(outcome)")
            return
        }
        #expect(code == testCase.code)
        #expect(!reason.isEmpty && reason.utf8.count <= WebSocketFrameWriter.maxCloseReasonLength)
        #expect(harness.events.isEmpty)
        // Sticky: nothing more is read.
        #expect(harness.feed(Encoder.text("after")) == outcome)
        #expect(harness.events.isEmpty)
    }

    @Test("events before a violation are delivered, then the violation")
    func eventsBeforeViolation() {
        var harness = ReaderHarness()
        let outcome = harness.feed(Encoder.text("fine") + Encoder.ping([]) + Encoder.frame(opcode: 0x1, [], mask: nil))
        #expect(outcome == .violation(.protocolError, reason: "client frame is not masked"))
        #expect(harness.events == [.text("fine"), .ping([])])
    }

    @Test("an oversized frame is rejected from its header, before its payload arrives")
    func oversizedRejectedFromHeader() {
        var single = ReaderHarness(maxMessageBytes: 1000)
        let header = Array(Encoder.frame(opcode: 0x2, [], declaredLength: 1 << 20).prefix(14))
        #expect(single.feed(header) == .violation(.messageTooBig, reason: "message is larger than 1000 bytes"))

        var fragmented = ReaderHarness(maxMessageBytes: 1000)
        #expect(fragmented.feed(Encoder.binary(Self.pattern(900), fin: false)) == .needMoreBytes)
        let continuationHeader = Array(Encoder.frame(opcode: 0x0, [], fin: true, declaredLength: 101).prefix(6))
        #expect(
            fragmented.feed(continuationHeader)
                == .violation(.messageTooBig, reason: "message is larger than 1000 bytes")
        )
    }

    @Test("header-level violations are found from the first two bytes")
    func violationFromFirstTwoBytes() {
        var harness = ReaderHarness()
        #expect(harness.feed([0x81, 0x05]) == .violation(.protocolError, reason: "client frame is not masked"))
    }

    @Test("single-frame text is not UTF-8 checked when validatesTextUTF8 is off")
    func singleFrameTextUnchecked() {
        var harness = ReaderHarness(validatesTextUTF8: false)
        #expect(harness.feed(Encoder.frame(opcode: 0x1, [0xFF, 0xFE])) == .needMoreBytes)
        #expect(harness.events == [.text([0xFF, 0xFE])])
    }

    // MARK: - UTF-8 across fragments

    @Test("invalid UTF-8 fails at the fragment that holds it, before the final fragment")
    func utf8FailsFastAcrossFragments() {
        var harness = ReaderHarness(validatesTextUTF8: false)
        // "ab" + the first two bytes of "€" (E2 82 AC): valid so far.
        #expect(harness.feed(Encoder.frame(opcode: 0x1, [0x61, 0x62, 0xE2, 0x82], fin: false)) == .needMoreBytes)
        #expect(
            harness.feed(Encoder.continuation(Array("cd".utf8), fin: false))
                == .violation(.invalidFramePayloadData, reason: "text message is not valid UTF-8")
        )
        #expect(harness.events.isEmpty)
        #expect(harness.reader.reassemblyCapacity == nil)
    }

    @Test("invalid UTF-8 in a middle fragment fails when that fragment arrives")
    func utf8FailsInMiddleFragment() {
        var harness = ReaderHarness()
        #expect(harness.feed(Encoder.text("héllo ", fin: false)) == .needMoreBytes)
        #expect(harness.feed(Encoder.continuation(Array("wörld".utf8), fin: false)) == .needMoreBytes)
        let outcome = harness.feed(Encoder.continuation([0x20, 0xF4, 0x90, 0x80, 0x80], fin: false))
        #expect(outcome == .violation(.invalidFramePayloadData, reason: "text message is not valid UTF-8"))
    }

    @Test("a 4-byte character split over three fragments is valid")
    func fourByteCharacterSplitAcrossFragments() {
        var harness = ReaderHarness()
        let grin: [UInt8] = Array("😀".utf8)
        #expect(grin == [0xF0, 0x9F, 0x98, 0x80])
        var outcomes: [WebSocketReadOutcome] = []
        outcomes.append(harness.feed(Encoder.frame(opcode: 0x1, [0x78, 0xF0], fin: false)))
        outcomes.append(harness.feed(Encoder.ping([])))
        outcomes.append(harness.feed(Encoder.frame(opcode: 0x0, [0x9F, 0x98], fin: false, mask: [9, 9, 9, 9])))
        outcomes.append(harness.feed(Encoder.frame(opcode: 0x0, [0x80, 0x79], fin: true, mask: [0, 0, 0, 0])))
        #expect(outcomes.allSatisfy { $0 == .needMoreBytes })
        #expect(harness.events == [.ping([]), .text("x😀y")])
    }

    // MARK: - retryLater

    @Test("retryLater keeps a single-frame message in the buffer and redelivers it")
    func retryLaterSingleFrame() {
        var harness = ReaderHarness()
        let first = Encoder.text("first")
        let second = Encoder.binary([1, 2, 3])
        let third = Encoder.text("third")
        var refusals = 0
        let decide: (RecordedEvent) -> WebSocketEventDisposition = { event in
            if event == .binary([1, 2, 3]) && refusals < 2 {
                refusals += 1
                return .retryLater
            }
            return .consumed
        }
        #expect(harness.feed(first + second + third, decide: decide) == .paused)
        #expect(harness.events == [.text("first"), .binary([1, 2, 3])])
        #expect(harness.buffer.readableBytes == second.count + third.count)

        #expect(harness.read(decide: decide) == .paused)  // refused a second time
        #expect(harness.buffer.readableBytes == second.count + third.count)

        #expect(harness.read(decide: decide) == .needMoreBytes)
        #expect(
            harness.events == [
                .text("first"), .binary([1, 2, 3]), .binary([1, 2, 3]), .binary([1, 2, 3]), .text("third"),
            ]
        )
        #expect(harness.buffer.readableBytes == 0)
    }

    @Test("retryLater after control frames keeps only the message")
    func retryLaterAfterControlFrames() {
        var harness = ReaderHarness()
        let message = Encoder.text("wait")
        var maskKeys: [UInt32] = []
        var buffer = ByteBuffer(bytes: Encoder.ping([5]) + Encoder.pong() + message)
        let first = harness.reader.read(&buffer) { event in
            if case .text(let payload) = event {
                maskKeys.append(payload.maskKey)
                return .retryLater
            }
            return .consumed
        }
        #expect(first == .paused)
        #expect(buffer.readableBytes == message.count)
        var events: [RecordedEvent] = []
        let second = harness.reader.read(&buffer) { event in
            if case .text(let payload) = event { maskKeys.append(payload.maskKey) }
            events.append(RecordedEvent(event))
            return .consumed
        }
        #expect(second == .needMoreBytes)
        #expect(events == [.text("wait")])
        #expect(maskKeys.count == 2 && maskKeys[0] == maskKeys[1])
    }

    @Test("retryLater keeps a reassembled message and redelivers it, even with no new bytes")
    func retryLaterFragmented() {
        var harness = ReaderHarness()
        let ping = Encoder.ping(Array("x".utf8))
        let bytes = Encoder.text("Hel", fin: false) + Encoder.continuation(Array("lo".utf8), fin: true) + ping
        var refusals = 0
        let decide: (RecordedEvent) -> WebSocketEventDisposition = { event in
            if case .text = event, refusals < 2 {
                refusals += 1
                return .retryLater
            }
            return .consumed
        }
        #expect(harness.feed(bytes, decide: decide) == .paused)
        #expect(harness.buffer.readableBytes == ping.count)  // fragments consumed, ping not read yet
        #expect(harness.read(decide: decide) == .paused)
        #expect(harness.buffer.readableBytes == ping.count)
        #expect(harness.read(decide: decide) == .needMoreBytes)
        #expect(harness.events == [.text("Hello"), .text("Hello"), .text("Hello"), .ping(Array("x".utf8))])
        #expect(harness.buffer.readableBytes == 0)
        #expect(!harness.reader.isReassemblingMessage)

        // The next fragmented message starts from an empty reassembly buffer.
        #expect(harness.feed(Encoder.binary([1], fin: false) + Encoder.continuation([2], fin: true)) == .needMoreBytes)
        #expect(harness.events.last == .binary([1, 2]))
    }

    @Test("holdsPausedMessage: a paused reassembled message is redelivered from an empty buffer")
    func pausedReassembledMessageWithNoBytesLeft() {
        // The connection handler keeps no buffer once everything was consumed; the reader must then be
        // read with an empty one (regression: the message waited for the client's next frame).
        var harness = ReaderHarness()
        #expect(!harness.reader.holdsPausedMessage)
        #expect(harness.feed(Encoder.text("Hel", fin: false)) == .needMoreBytes)
        #expect(!harness.reader.holdsPausedMessage)  // partly received: nothing to deliver yet
        #expect(harness.feed(Encoder.continuation(Array("lo".utf8), fin: true)) { _ in .retryLater } == .paused)
        #expect(harness.buffer.readableBytes == 0)
        #expect(harness.reader.holdsPausedMessage)
        var empty = ByteBuffer()
        var delivered: [RecordedEvent] = []
        let outcome = harness.reader.read(&empty) { event in
            delivered.append(RecordedEvent(event))
            return .consumed
        }
        #expect(outcome == .needMoreBytes)
        #expect(delivered == [.text("Hello")])
        #expect(!harness.reader.holdsPausedMessage)
    }

    @Test("while a reassembled message waits, no new frame is parsed")
    func pausedReassembledBlocksFollowingFrames() {
        var harness = ReaderHarness()
        #expect(
            harness.feed(Encoder.binary([1], fin: false) + Encoder.continuation([2], fin: true)) { _ in .retryLater }
                == .paused
        )
        // A violating frame arrives behind it: not looked at while paused.
        #expect(harness.feed(Encoder.frame(opcode: 0x1, [], mask: nil)) { _ in .retryLater } == .paused)
        #expect(harness.events == [.binary([1, 2]), .binary([1, 2])])
        let outcome = harness.read()
        #expect(outcome == .violation(.protocolError, reason: "client frame is not masked"))
        #expect(harness.events == [.binary([1, 2]), .binary([1, 2]), .binary([1, 2])])
    }

    // MARK: - Close

    @Test("close without payload has no code")
    func closeWithoutCode() {
        var harness = ReaderHarness()
        #expect(harness.feed(Encoder.close(code: nil)) == .closed)
        #expect(harness.events == [.close(code: nil, reason: [])])
        #expect(harness.buffer.readableBytes == 0)
    }

    @Test("close with code and a masked multi-byte reason")
    func closeWithCodeAndReason() {
        var harness = ReaderHarness()
        let reason = Array("à bientôt 👋".utf8)
        #expect(harness.feed(Encoder.close(code: 1000, reason: reason)) == .closed)
        #expect(harness.events == [.close(code: 1000, reason: reason)])
    }

    @Test(
        "every code valid on the wire is accepted",
        arguments: [
            UInt16(1000), 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999,
        ]
    )
    func validCloseCodes(code: UInt16) {
        var harness = ReaderHarness()
        #expect(harness.feed(Encoder.close(code: code)) == .closed)
        #expect(harness.events == [.close(code: code, reason: [])])
    }

    @Test("nothing after a close frame is read")
    func nothingAfterClose() {
        var harness = ReaderHarness()
        let late = Encoder.text("late")
        #expect(harness.feed(Encoder.text("before") + Encoder.close(code: 1001) + late) == .closed)
        #expect(harness.events == [.text("before"), .close(code: 1001, reason: [])])
        #expect(harness.buffer.readableBytes == late.count)
        #expect(harness.read() == .closed)
        #expect(harness.events.count == 2)
    }

    @Test("close may arrive in the middle of a fragmented message")
    func closeDuringFragmentedMessage() {
        var harness = ReaderHarness()
        #expect(harness.feed(Encoder.text("part", fin: false) + Encoder.close(code: 1000)) == .closed)
        #expect(harness.events == [.close(code: 1000, reason: [])])
        #expect(harness.reader.reassemblyCapacity == nil)
    }
}

import ChatContract
import Ingest
import NIOCore
import WebSocketProtocol

/// SplitMix64: a tiny deterministic generator, so every run measures exactly the same bytes and masks.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        self.state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z &>> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z &>> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z &>> 31)
    }

    /// A client mask key; never 0, which the validator reads as "not masked".
    mutating func nextMaskKey() -> UInt32 {
        while true {
            let key = UInt32(truncatingIfNeeded: next())
            if key != 0 { return key }
        }
    }
}

/// Message sizes the benchmarks use: the typical chat line and two long ones.
enum MessageSize: CaseIterable {
    /// About 100 bytes, plain ASCII: the load generator's `--size 100` and most real chat lines.
    case typical
    /// About 1 KiB of plain ASCII words: what the load generator's `--size 1024` measures end to end.
    case longASCII
    /// About 1 KiB with multi-byte UTF-8 and string escapes in a third of its words (an escape every ~25
    /// bytes, non-ASCII in most 16-byte blocks): the slower scanner paths, harder than most real text.
    case long

    var targetBytes: Int {
        switch self {
        case .typical: 100
        case .longASCII, .long: 1024
        }
    }

    /// Seed of the message set, shared by every benchmark of this size so their figures compare directly.
    var seed: UInt64 {
        0x5EED_0000 &+ UInt64(targetBytes) &+ (self == .longASCII ? 1 : 0)
    }

    var label: String {
        switch self {
        case .typical: "~100 B"
        case .longASCII: "~1 KiB ASCII"
        case .long: "~1 KiB"
        }
    }
}

/// Builds contract-valid chat messages (plain JSON bytes) of an exact length.
///
/// Half of them are compact (`JSON.stringify`), half use Python's `json.dumps` spacing (`", "`, `": "`),
/// since the service being replaced was Python and its clients send both.
enum ChatMessageFactory {
    private static let senders = ["alice", "bob", "carol.k", "dave_99", "erin-ops", "frank", "grace.h", "heidi"]
    private static let tags = ["chat", "greeting", "question", "reply", "ops", "random"]
    private static let words = [
        "hello", "there", "how", "is", "the", "deploy", "going", "today", "ok", "see", "you", "soon",
    ]
    /// Pieces of a long text: non-ASCII (2, 3 and 4-byte UTF-8) and escapes, each kept whole.
    private static let richPieces = [
        "café ", "naïve ", "日本語 ", "🙂 ", "\\\"quoted\\\" ", "line\\nbreak ", "\\u00e9t\\u00e9 ", "tab\\there ",
    ]

    /// `count` messages of exactly `size.targetBytes` bytes each.
    static func messages(count: Int, size: MessageSize, seed: UInt64) -> [[UInt8]] {
        var random = SplitMix64(seed: seed)
        return (0..<count).map { index in
            message(index: index, targetBytes: size.targetBytes, rich: size == .long, random: &random)
        }
    }

    private static func message(index: Int, targetBytes: Int, rich: Bool, random: inout SplitMix64) -> [UInt8] {
        let spaced = index % 2 == 1
        let colon = spaced ? ": " : ":"
        let comma = spaced ? ", " : ","
        let sender = senders[Int(random.next() % UInt64(senders.count))]
        let tag = tags[Int(random.next() % UInt64(tags.count))]
        let prefix = "{\"sender\"\(colon)\"\(sender)\"\(comma)\"text\"\(colon)\""
        let suffix = "\"\(comma)\"tag\"\(colon)\"\(tag)\"}"
        let textBytes = targetBytes - prefix.utf8.count - suffix.utf8.count
        precondition(textBytes > 0, "target size \(targetBytes) too small for the message skeleton")

        var text = ""
        while true {
            let piece: String
            if rich && random.next() % 3 == 0 {
                piece = richPieces[Int(random.next() % UInt64(richPieces.count))]
            } else {
                piece = words[Int(random.next() % UInt64(words.count))] + " "
            }
            guard text.utf8.count + piece.utf8.count <= textBytes else { break }
            text += piece
        }
        text += String(repeating: ".", count: textBytes - text.utf8.count)
        let bytes = Array((prefix + text + suffix).utf8)
        precondition(bytes.count == targetBytes)
        return bytes
    }
}

/// One message as the validator sees it on the hot path: the payload bytes still masked, and its key.
struct MaskedSample {
    let bytes: UnsafeRawBufferPointer
    let maskKey: UInt32
    /// Where the fields lie, from a validation done while building the fixture.
    let message: ChatMessage
}

/// A power-of-two set of masked messages in one arena, cycled through by the benchmarks so the branch
/// predictor cannot learn a single input; all of it stays cache-resident (32 KiB for the long ones).
final class MaskedCorpus {
    let samples: ContiguousArray<MaskedSample>
    /// `samples.count - 1`, for cycling with a mask instead of a division.
    let indexMask: Int
    /// Room for the largest canonical record of the set, for `writeCanonical`.
    let destination: UnsafeMutableRawBufferPointer
    private let arena: UnsafeMutableRawBufferPointer

    init(size: MessageSize, count: Int = 32, seed: UInt64) {
        precondition(count > 0 && count & (count - 1) == 0, "count must be a power of two")
        let plain = ChatMessageFactory.messages(count: count, size: size, seed: seed)
        var random = SplitMix64(seed: seed ^ 0x6D61_736B)
        arena = .allocate(byteCount: plain.reduce(0) { $0 + $1.count }, alignment: 16)
        var offset = 0
        var samples = ContiguousArray<MaskedSample>()
        var largestCanonical = 0
        for message in plain {
            let maskKey = random.nextMaskKey()
            let slot = UnsafeMutableRawBufferPointer(rebasing: arena[offset..<(offset + message.count)])
            message.withUnsafeBytes { WebSocketMask.copyUnmasking($0, maskKey: maskKey, into: slot) }
            offset += message.count
            let bytes = UnsafeRawBufferPointer(slot)
            guard case .success(let parsed) = ChatMessageValidator.validate(bytes, maskKey: maskKey) else {
                fatalError("fixture message is not valid: \(String(decoding: message, as: UTF8.self))")
            }
            largestCanonical = max(largestCanonical, ChatMessageValidator.canonicalByteCount(of: parsed))
            samples.append(MaskedSample(bytes: bytes, maskKey: maskKey, message: parsed))
        }
        self.samples = samples
        self.indexMask = count - 1
        self.destination = .allocate(byteCount: largestCanonical, alignment: 16)
    }

    deinit {
        arena.deallocate()
        destination.deallocate()
    }
}

/// Client-to-server WebSocket frames as they arrive from a socket: FIN + text, masked with a fresh key per
/// frame, 7-bit or 16-bit length form.
enum ClientFrames {
    /// One buffer holding `frames` frames, cycling through `messages`.
    static func stream(of messages: [[UInt8]], frames: Int, seed: UInt64) -> ByteBuffer {
        var random = SplitMix64(seed: seed)
        let totalBytes = (0..<frames).reduce(0) { $0 + messages[$1 % messages.count].count + 8 }
        var buffer = ByteBufferAllocator().buffer(capacity: totalBytes)
        for index in 0..<frames {
            let message = messages[index % messages.count]
            let maskKey = random.nextMaskKey()
            buffer.writeInteger(UInt8(0x81))  // FIN, opcode text
            if message.count < 126 {
                buffer.writeInteger(UInt8(0x80) | UInt8(message.count))
            } else {
                precondition(message.count <= Int(UInt16.max), "benchmark frames use the 16-bit length form at most")
                buffer.writeInteger(UInt8(0x80 | 126))
                buffer.writeInteger(UInt16(message.count), endianness: .big)
            }
            // The key's low byte is the first mask byte on the wire (the daemon's convention).
            buffer.writeInteger(maskKey, endianness: .little)
            buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: message.count) { destination in
                message.withUnsafeBytes { WebSocketMask.copyUnmasking($0, maskKey: maskKey, into: destination) }
                return message.count
            }
        }
        return buffer
    }
}

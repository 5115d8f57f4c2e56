/// The object keys the contract gives meaning to; every other key is `.other` and skipped.
///
/// Keys are compared by value, so `"\u0073ender"` is `sender`. The decoded key (at most six
/// bytes for a known one) is packed into an integer, which avoids any buffer and makes the
/// comparison a single integer compare per candidate.
enum ChatField: Sendable {
    case sender, text, tag, id, other

    /// The key as it appears in messages to the client.
    var name: String {
        switch self {
        case .sender: "sender"
        case .text: "text"
        case .tag: "tag"
        case .id: "id"
        case .other: "other"
        }
    }

    /// A bit per known field, to notice duplicates without a set.
    var bit: UInt8 {
        switch self {
        case .sender: 1
        case .text: 2
        case .tag: 4
        case .id: 8
        case .other: 0
        }
    }

    // Known keys packed little-endian (first byte in the low bits), with their lengths.
    private static let packedSender: UInt64 = 0x7265_646E_6573  // "sender"
    private static let packedText: UInt64 = 0x7478_6574  // "text"
    private static let packedTag: UInt64 = 0x67_6174  // "tag"
    private static let packedID: UInt64 = 0x6469  // "id"
    /// Longest escaped form of a six-byte key: six `\uXXXX` escapes.
    private static let maxEscapedKnownKeyCount = 6 * 6

    /// Length of the key's plain token, quotes included (`"sender"` is 8 bytes).
    var plainTokenCount: Int {
        switch self {
        case .sender: 8
        case .text: 6
        case .tag: 5
        case .id: 4
        case .other: 0
        }
    }

    /// The common case in one compare: the eight unmasked bytes at a key's opening quote start with
    /// a known key written plainly, closing quote included (`"sender"` fills the word exactly).
    /// Anything else (other keys, escapes) returns nil and goes through `init(key:escaped:in:)`.
    @inline(__always)
    init?(plainKeyWord word: UInt64) {
        if word == 0x2272_6564_6E65_7322 {  // "sender"
            self = .sender
        } else if word & 0xFFFF_FFFF_FFFF == 0x2274_7865_7422 {  // "text"
            self = .text
        } else if word & 0xFF_FFFF_FFFF == 0x22_6761_7422 {  // "tag"
            self = .tag
        } else if word & 0xFFFF_FFFF == 0x2264_6922 {  // "id"
            self = .id
        } else {
            return nil
        }
    }

    /// Identifies the key token `key` (quotes included, already validated by the scanner).
    /// `escaped` says whether it holds a backslash; only then is the slower decoding path taken.
    @inline(__always)
    init(key: TokenSpan, escaped: Bool, in input: MaskedPayload) {
        let contentStart = key.start &+ 1
        let contentCount = key.count &- 2
        var packed: UInt64 = 0
        var length = 0
        if !escaped {
            guard contentCount >= 2, contentCount <= 6 else {
                self = .other
                return
            }
            while length < contentCount {
                packed |= UInt64(input.byte(contentStart &+ length)) &<< UInt64(length &<< 3)
                length &+= 1
            }
        } else {
            guard contentCount <= Self.maxEscapedKnownKeyCount else {
                self = .other
                return
            }
            var i = contentStart
            let contentEnd = contentStart &+ contentCount
            while i < contentEnd {
                guard length < 6 else {
                    self = .other
                    return
                }
                var value = input.byte(i)
                if value == UInt8(ascii: "\\") {
                    let escape = input.byte(i &+ 1)
                    i &+= 2
                    switch escape {
                    case UInt8(ascii: "u"):
                        var unit: UInt32 = 0
                        for k in 0..<4 {
                            unit = unit &<< 4 | JSONStringDecoding.hexDigitValue(input.byte(i &+ k))
                        }
                        i &+= 4
                        // A known key is ASCII, so any escape beyond ASCII rules it out.
                        guard unit < 0x80 else {
                            self = .other
                            return
                        }
                        value = UInt8(truncatingIfNeeded: unit)
                    case UInt8(ascii: "b"): value = 0x08
                    case UInt8(ascii: "f"): value = 0x0C
                    case UInt8(ascii: "n"): value = 0x0A
                    case UInt8(ascii: "r"): value = 0x0D
                    case UInt8(ascii: "t"): value = 0x09
                    default: value = escape  // \" \\ \/
                    }
                } else {
                    i &+= 1
                }
                packed |= UInt64(value) &<< UInt64(length &<< 3)
                length &+= 1
            }
        }
        switch (length, packed) {
        case (6, Self.packedSender): self = .sender
        case (4, Self.packedText): self = .text
        case (3, Self.packedTag): self = .tag
        case (2, Self.packedID): self = .id
        default: self = .other
        }
    }
}

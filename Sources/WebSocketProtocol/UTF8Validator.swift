/// Incremental UTF-8 validator: a 9-state DFA that can be fed a message piece by piece.
///
/// RFC 6455 wants a text message's UTF-8 checked as it arrives (fail fast) even when a character
/// straddles two fragments, so the state between bytes is kept here rather than re-scanning.
/// Bytes may be fed still masked, which saves unmasking into a scratch buffer first.
///
/// Accepts exactly what Unicode calls well-formed UTF-8: no overlong forms, no surrogates
/// (U+D800–U+DFFF), nothing above U+10FFFF.
public struct UTF8Validator: Sendable {
    /// Current DFA state; see the `State` constants.
    private var state: UInt8

    public init() {
        state = State.accept
    }

    /// True when the bytes so far are valid and do not end inside a multi-byte character.
    public var isAtCharacterBoundary: Bool {
        state == State.accept
    }

    /// True once an invalid byte was seen; stays true until `reset()`.
    public var hasFailed: Bool {
        state == State.reject
    }

    /// Starts over for a new message.
    public mutating func reset() {
        state = State.accept
    }

    /// Feeds the next bytes of the message, unmasking with `maskKey` as if `bytes` started at payload offset
    /// `maskOffset`. Returns false at the first invalid byte (and ever after until `reset()`).
    /// A true result only means "valid so far": check `isAtCharacterBoundary` at the end of the message.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer, maskKey: UInt32 = 0, maskOffset: Int = 0) -> Bool {
        var state = self.state
        guard state != State.reject else { return false }
        let count = bytes.count
        guard count > 0, let base = bytes.baseAddress else { return true }
        let key = WebSocketMask.rotated(maskKey, byOffset: maskOffset)
        var index = 0
        while index < count {
            if state == State.accept && count &- index >= 8 {
                // ASCII fast path: chat text is mostly ASCII, so while between characters test 16, then 8 bytes
                // per step; the 8-byte loop also finds where the first non-ASCII byte is.
                let wideKey = Self.wideKey(WebSocketMask.rotated(key, byOffset: index))
                while count &- index >= 16 {
                    let first = base.loadUnaligned(fromByteOffset: index, as: UInt64.self)
                    let second = base.loadUnaligned(fromByteOffset: index &+ 8, as: UInt64.self)
                    // Only "is any high bit set" matters here, which byte order does not change: no swap needed.
                    let wireKey = wideKey.littleEndian
                    if ((first ^ wireKey) | (second ^ wireKey)) & 0x8080_8080_8080_8080 != 0 { break }
                    index &+= 16
                }
                while count &- index >= 8 {
                    let word = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: index, as: UInt64.self))
                    let highBits = (word ^ wideKey) & 0x8080_8080_8080_8080
                    if highBits != 0 {
                        // Skip the ASCII bytes below the first non-ASCII one (lowest address = lowest bits).
                        index &+= highBits.trailingZeroBitCount >> 3
                        break
                    }
                    index &+= 8
                }
                if index == count { break }
            }
            let byte = base.load(fromByteOffset: index, as: UInt8.self) ^ WebSocketMask.byte(of: key, at: index)
            state = Self.transition(from: state, on: byte)
            if state == State.reject {
                self.state = state
                return false
            }
            index &+= 1
        }
        self.state = state
        return true
    }

    @inline(__always)
    private static func wideKey(_ key: UInt32) -> UInt64 {
        UInt64(key) | (UInt64(key) << 32)
    }

    /// DFA states. The names say what the next byte must be.
    private enum State {
        /// Between characters.
        static let accept: UInt8 = 0
        /// 1, 2 or 3 more continuation bytes (80–BF) needed.
        static let need1: UInt8 = 1
        static let need2: UInt8 = 2
        static let need3: UInt8 = 3
        /// After E0: A0–BF (else overlong), then 1 more.
        static let afterE0: UInt8 = 4
        /// After ED: 80–9F (else a surrogate), then 1 more.
        static let afterED: UInt8 = 5
        /// After F0: 90–BF (else overlong), then 2 more.
        static let afterF0: UInt8 = 6
        /// After F4: 80–8F (else above U+10FFFF), then 2 more.
        static let afterF4: UInt8 = 7
        /// An invalid byte was seen.
        static let reject: UInt8 = 8
    }

    /// One DFA step. Each byte class is a row packing the next state for each of the 9 current states into
    /// 4-bit fields, so a step is one shift, with no table in memory (the rows are constants).
    @inline(__always)
    private static func transition(from state: UInt8, on byte: UInt8) -> UInt8 {
        UInt8(truncatingIfNeeded: row(for: byte) >> (UInt64(state) &* 4)) & 0xF
    }

    @inline(__always)
    private static func row(for byte: UInt8) -> UInt64 {
        let r = State.reject
        switch byte {
        case 0x00...0x7F: return pack(State.accept, r, r, r, r, r, r, r, r)
        case 0x80...0x8F: return pack(r, State.accept, State.need1, State.need2, r, State.need1, r, State.need2, r)
        case 0x90...0x9F: return pack(r, State.accept, State.need1, State.need2, r, State.need1, State.need2, r, r)
        case 0xA0...0xBF: return pack(r, State.accept, State.need1, State.need2, State.need1, r, State.need2, r, r)
        case 0xC2...0xDF: return pack(State.need1, r, r, r, r, r, r, r, r)
        case 0xE0: return pack(State.afterE0, r, r, r, r, r, r, r, r)
        case 0xED: return pack(State.afterED, r, r, r, r, r, r, r, r)
        case 0xE1...0xEF: return pack(State.need2, r, r, r, r, r, r, r, r)
        case 0xF0: return pack(State.afterF0, r, r, r, r, r, r, r, r)
        case 0xF1...0xF3: return pack(State.need3, r, r, r, r, r, r, r, r)
        case 0xF4: return pack(State.afterF4, r, r, r, r, r, r, r, r)
        default: return pack(r, r, r, r, r, r, r, r, r)  // C0, C1 (always overlong), F5–FF
        }
    }

    /// Packs next states for current states 0…8 into one row (folded to a constant by the optimizer).
    @inline(__always)
    private static func pack(
        _ s0: UInt8,
        _ s1: UInt8,
        _ s2: UInt8,
        _ s3: UInt8,
        _ s4: UInt8,
        _ s5: UInt8,
        _ s6: UInt8,
        _ s7: UInt8,
        _ s8: UInt8
    ) -> UInt64 {
        UInt64(s0) | UInt64(s1) << 4 | UInt64(s2) << 8 | UInt64(s3) << 12 | UInt64(s4) << 16
            | UInt64(s5) << 20 | UInt64(s6) << 24 | UInt64(s7) << 28 | UInt64(s8) << 32
    }
}

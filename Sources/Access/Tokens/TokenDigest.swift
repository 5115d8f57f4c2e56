import Crypto

/// A token's SHA-256 as four words, so that comparing two costs four XORs (a byte-by-byte loop over
/// every entry of a large tokens file would be the dominant cost of a handshake).
public struct TokenDigest: Hashable, Sendable {
    let words: (UInt64, UInt64, UInt64, UInt64)

    public init(of token: some StringProtocol) {
        self.init(bytes: Array(SHA256.hash(data: Array(token.utf8))))
    }

    /// - Precondition: 32 bytes.
    public init(bytes: [UInt8]) {
        precondition(bytes.count == 32, "a SHA-256 digest has 32 bytes")
        func word(_ index: Int) -> UInt64 {
            bytes[(index * 8)..<(index * 8 + 8)].reduce(0) { $0 << 8 | UInt64($1) }
        }
        self.words = (word(0), word(1), word(2), word(3))
    }

    /// Zero when equal; computed over all four words whatever they hold.
    func difference(from other: TokenDigest) -> UInt64 {
        (self.words.0 ^ other.words.0) | (self.words.1 ^ other.words.1) | (self.words.2 ^ other.words.2)
            | (self.words.3 ^ other.words.3)
    }

    /// `sha256:` and the first 8 hex digits (see `TokenFingerprint`).
    public var fingerprint: String {
        let hex = String(self.words.0 >> 32, radix: 16)
        return "sha256:" + String(repeating: "0", count: 8 - hex.count) + hex
    }

    public static func == (lhs: TokenDigest, rhs: TokenDigest) -> Bool {
        lhs.difference(from: rhs) == 0
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(self.words.0)
        hasher.combine(self.words.1)
        hasher.combine(self.words.2)
        hasher.combine(self.words.3)
    }
}

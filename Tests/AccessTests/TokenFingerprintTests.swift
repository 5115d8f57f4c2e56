import Access
import Testing

@Suite("token fingerprints")
struct TokenFingerprintTests {
    /// `printf %s 'hashed-token-0123456789' | sha256sum`
    static let hashedTokenDigest = "b22fd458dbe2426bebe59cfafe4c46e013df3efd439e4d91cda767ac3052ddd0"

    @Test("the first 8 hex digits of the SHA-256, so it can be matched against sha256: entries")
    func fingerprint() {
        #expect(TokenFingerprint.of("hashed-token-0123456789") == "sha256:" + Self.hashedTokenDigest.prefix(8))
    }
}

/// A short, stable name for a secret token, for logs: the first 8 hex digits of its SHA-256.
///
/// It lets an operator tell which credential a log line is about (and match it against the
/// `sha256:` entries of the tokens file) without the log ever holding the token. 32 bits of a hash
/// of a high-entropy token reveal nothing usable about it.
public enum TokenFingerprint {
    public static func of(_ token: some StringProtocol) -> String {
        TokenDigest(of: token).fingerprint
    }
}

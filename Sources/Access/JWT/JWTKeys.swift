import JWTKit

/// The verification keys, read from their files at startup: an HS256 shared secret and/or an RS256
/// public key. Each key verifies only tokens whose header names its algorithm.
public struct JWTKeys: Sendable {
    public private(set) var hs256: HMACKey?
    public private(set) var rs256: Insecure.RSA.PublicKey?

    /// RFC 7518 §3.2: an HS256 key must be at least as long as the hash.
    public static let minimumSecretBytes = 32

    public init() {}

    public var isEmpty: Bool { self.hs256 == nil && self.rs256 == nil }

    /// The file's bytes with surrounding whitespace (a trailing newline) removed.
    public mutating func setHS256Secret(fileContents: [UInt8]) throws(AccessSetupError) {
        let isSpace: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }
        let secret = fileContents.drop(while: isSpace).reversed().drop(while: isSpace).reversed()
        guard secret.count >= Self.minimumSecretBytes else {
            throw AccessSetupError(
                "the secret has \(secret.count) bytes; HS256 needs at least \(Self.minimumSecretBytes)"
            )
        }
        self.hs256 = HMACKey(from: Array(secret))
    }

    /// A PEM public key (`BEGIN PUBLIC KEY` or `BEGIN RSA PUBLIC KEY`) or a certificate holding one.
    public mutating func setRS256PublicKey(pem: String) throws(AccessSetupError) {
        do {
            if pem.contains("-----BEGIN CERTIFICATE-----") {
                self.rs256 = try Insecure.RSA.PublicKey(certificatePEM: pem)
            } else {
                self.rs256 = try Insecure.RSA.PublicKey(pem: pem)
            }
        } catch {
            throw AccessSetupError("not a PEM RSA public key of at least 2048 bits (\(error))")
        }
    }
}

/// A credential that passed its checks: what it may write to, and how to name it in logs.
public struct AccessGrant: Sendable, Equatable {
    public enum Kind: String, Sendable {
        case staticToken = "static"
        case jwt
    }

    public let kind: Kind
    public let scope: ChatScope
    /// `sha256:…` of the token (see `TokenFingerprint`).
    public let fingerprint: String
    /// The JWT's `sub`, when it has one.
    public let subject: String?

    public init(kind: Kind, scope: ChatScope, fingerprint: String, subject: String?) {
        self.kind = kind
        self.scope = scope
        self.fingerprint = fingerprint
        self.subject = subject
    }
}

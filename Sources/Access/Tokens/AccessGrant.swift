import Foundation

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
    /// When the credential stops being valid (a JWT's `exp` plus the leeway); nil for static tokens.
    /// A connection opened with it is closed then.
    public let expiresAt: Date?
    /// The credential itself, for `AccessControl.recheck` after a reload.
    public let credential: HeldCredential

    public init(
        kind: Kind,
        scope: ChatScope,
        fingerprint: String,
        subject: String?,
        expiresAt: Date? = nil,
        credential: HeldCredential
    ) {
        self.kind = kind
        self.credential = credential
        self.scope = scope
        self.fingerprint = fingerprint
        self.subject = subject
        self.expiresAt = expiresAt
    }
}

/// The outcome of a handshake's access checks.
public enum AccessDecision: Sendable, Equatable {
    /// Go ahead; the grant is nil when no credential is required.
    case allowed(AccessGrant?)
    case refused(AccessRefusal)
}

import JWTKit

/// The claims the daemon reads from a JWT. `exp` and `aud` are optional here only so that a token
/// without them is reported as such instead of as unreadable; `JWTVerifier` requires both.
public struct ChatTokenClaims: JWTPayload, Equatable {
    public var exp: ExpirationClaim?
    public var nbf: NotBeforeClaim?
    public var aud: AudienceClaim?
    public var iss: IssuerClaim?
    public var sub: SubjectClaim?
    public var chats: ChatsClaim?

    public init(
        exp: ExpirationClaim?,
        nbf: NotBeforeClaim? = nil,
        aud: AudienceClaim?,
        iss: IssuerClaim? = nil,
        sub: SubjectClaim? = nil,
        chats: ChatsClaim?
    ) {
        self.exp = exp
        self.nbf = nbf
        self.aud = aud
        self.iss = iss
        self.sub = sub
        self.chats = chats
    }

    /// Claims are checked by `JWTVerifier`, synchronously and with the configured audience, issuer and
    /// leeway, which this requirement cannot be given; jwt-kit's key collection never calls it here.
    public func verify(using algorithm: some JWTAlgorithm) async throws {}
}

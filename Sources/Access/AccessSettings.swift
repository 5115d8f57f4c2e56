/// Everything the handshake checks need, loaded at startup (files read, keys parsed). The default
/// checks nothing: no credentials, any origin, no trusted proxy — the daemon's behaviour before
/// access control existed.
public struct AccessSettings: Sendable {
    /// `auth.tokens_file`; nil: no static tokens.
    public var tokens: StaticTokenSet?
    /// `auth.jwt_hs256_secret_file`, `auth.jwt_rs256_public_key_file`.
    public var jwtKeys = JWTKeys()
    /// `auth.jwt_audience`: required whenever a JWT key is set.
    public var jwtAudience = ""
    /// `auth.jwt_issuer`; nil: any issuer.
    public var jwtIssuer: String?
    /// `auth.jwt_leeway_seconds`: tolerated clock skew for `exp` and `nbf`.
    public var jwtLeewaySeconds = 30.0
    public var origins = OriginPolicy.any
    public var trustedProxies = TrustedProxies.none

    public init() {}

    /// True when a handshake must present a credential.
    public var requiresCredentials: Bool { self.tokens != nil || !self.jwtKeys.isEmpty }
}

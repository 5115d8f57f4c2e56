/// What a connection keeps of the credential it was opened with, so a reload can check it again against
/// the new tokens and keys: a static token's SHA-256 (never the token), or the JWT itself (its signature,
/// audience, issuer and expiry are verified again with the new keys).
public enum HeldCredential: Sendable, Equatable {
    case staticToken(TokenDigest)
    case jwt(String)
}

/// One line of the tokens file, as kept in memory: the token's SHA-256, never the token.
public struct StaticToken: Sendable, Equatable {
    public let digest: TokenDigest
    public let scope: ChatScope
    /// Line in the tokens file, for log lines an operator can trace back.
    public let line: Int

    public var fingerprint: String { self.digest.fingerprint }
}

import Foundation

/// The bearer tokens of `auth.tokens_file`: one token per line, optionally followed by the chats it
/// may write to (`TOKEN chat-a,chat-b`, `TOKEN *`; no list means every chat). `#` starts a comment
/// line. Instead of the token, a line may hold `sha256:<64 hex digits>` — the token's SHA-256 — so
/// that the file on disk holds no usable secret either.
///
/// Only SHA-256 digests are kept. A presented token is hashed and compared with every digest, all
/// bytes of each, so the time taken does not depend on where or whether it matched.
public struct StaticTokenSet: Sendable, Equatable {
    public let tokens: [StaticToken]

    /// Shorter tokens are refused at startup: they could be guessed online.
    public static let minimumLength = 16

    public init(tokens: [StaticToken]) {
        self.tokens = tokens
    }

    /// Errors name the line, never the token.
    public static func parse(_ contents: String) throws(AccessSetupError) -> StaticTokenSet {
        var tokens: [StaticToken] = []
        var lineOfDigest: [TokenDigest: Int] = [:]
        for (index, rawLine) in contents.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let lineNumber = index + 1
            let line = rawLine.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count <= 2 else {
                throw AccessSetupError(
                    "line \(lineNumber): expected `TOKEN [chat,chat,…|*]`, found \(fields.count) fields"
                )
            }
            let digest = try self.digest(of: fields[0], line: lineNumber)
            if let earlier = lineOfDigest.updateValue(lineNumber, forKey: digest) {
                throw AccessSetupError("line \(lineNumber): same token as line \(earlier)")
            }
            var scope = ChatScope.anyChat
            if fields.count == 2 {
                let chats = fields[1].split(separator: ",", omittingEmptySubsequences: false)
                guard !chats.contains(where: { $0.isEmpty }) else {
                    throw AccessSetupError("line \(lineNumber): empty chat name in the chat list")
                }
                scope = ChatScope(chats)
            }
            tokens.append(StaticToken(digest: digest, scope: scope, line: lineNumber))
        }
        guard !tokens.isEmpty else {
            throw AccessSetupError("holds no token: every client would be refused")
        }
        return StaticTokenSet(tokens: tokens)
    }

    private static func digest(of field: Substring, line: Int) throws(AccessSetupError) -> TokenDigest {
        if field.hasPrefix("sha256:") {
            let hex = field.dropFirst("sha256:".count)
            guard hex.utf8.count == 64, let bytes = Self.bytes(hex: hex) else {
                throw AccessSetupError("line \(line): sha256: must be followed by 64 hex digits")
            }
            return TokenDigest(bytes: bytes)
        }
        guard BearerCredential.isToken(field) else {
            throw AccessSetupError("line \(line): a token may contain only A-Z a-z 0-9 - . _ ~ + / (and = at the end)")
        }
        guard field.utf8.count >= Self.minimumLength else {
            throw AccessSetupError("line \(line): token is shorter than \(Self.minimumLength) characters")
        }
        return TokenDigest(of: field)
    }

    private static func bytes(hex: Substring) -> [UInt8]? {
        var bytes: [UInt8] = []
        var high: UInt8?
        for character in hex {
            guard let nibble = character.hexDigitValue.map(UInt8.init) else { return nil }
            if let first = high {
                bytes.append(first << 4 | nibble)
                high = nil
            } else {
                high = nibble
            }
        }
        return bytes
    }

    /// The entry for `token`, if any, in time independent of the entries' contents.
    public func match(_ token: some StringProtocol) -> StaticToken? {
        self.match(digest: TokenDigest(of: token))
    }

    /// The entry whose digest is `presented`, if any, in time independent of the entries' contents.
    public func match(digest presented: TokenDigest) -> StaticToken? {
        var found = -1
        for index in self.tokens.indices {
            // No early exit: every entry costs the same whether it matched or not.
            if self.tokens[index].digest.difference(from: presented) == 0 { found = index }
        }
        return found >= 0 ? self.tokens[found] : nil
    }
}

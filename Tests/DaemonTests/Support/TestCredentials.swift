import Foundation
import JWTKit

/// Token files and signed JWTs for the access-control tests, in a temporary directory the test removes.
struct TestCredentials: Sendable {
    static let audience = "chat-service"
    static let secret = "integration-secret-0123456789-abcdefghijklmnop"

    let directory: URL

    init() throws {
        self.directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "kcp-auth-\(UUID().uuidString.prefix(8))"
        )
        try FileManager.default.createDirectory(at: self.directory, withIntermediateDirectories: true)
        try (Self.secret + "\n").write(to: self.secretFile, atomically: true, encoding: .utf8)
    }

    var secretFile: URL { self.directory.appendingPathComponent("jwt-hs256.secret") }
    var tokensFile: URL { self.directory.appendingPathComponent("tokens") }

    func writeTokens(_ lines: [String]) throws {
        try (lines.joined(separator: "\n") + "\n").write(to: self.tokensFile, atomically: true, encoding: .utf8)
    }

    func remove() {
        try? FileManager.default.removeItem(at: self.directory)
    }

    /// An HS256 JWT for `chats`, valid from `now` for `lifetime` seconds (negative: already expired).
    static func jwt(
        chats: [String],
        subject: String = "tester",
        lifetime: TimeInterval = 3600,
        audience: String = audience
    ) async throws -> String {
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: Self.secret), digestAlgorithm: .sha256)
        return try await keys.sign(
            Claims(
                exp: ExpirationClaim(value: Date().addingTimeInterval(lifetime)),
                aud: AudienceClaim(value: [audience]),
                sub: SubjectClaim(value: subject),
                chats: chats
            )
        )
    }

    /// What an identity provider would put in a token for this daemon.
    struct Claims: JWTPayload {
        var exp: ExpirationClaim
        var aud: AudienceClaim
        var sub: SubjectClaim
        var chats: [String]

        func verify(using algorithm: some JWTAlgorithm) async throws {}
    }
}

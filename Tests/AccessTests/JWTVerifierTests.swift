import Access
import Foundation
import JWTKit
import Testing

@Suite("JWT verification (HS256, RS256)")
struct JWTVerifierTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    static func verifier(
        hs256: Bool = true,
        rs256: Bool = true,
        issuer: String? = nil,
        leeway: TimeInterval = 30
    ) async throws -> JWTVerifier {
        var keys = JWTKeys()
        if hs256 { try keys.setHS256Secret(fileContents: TestKeys.hs256Secret + [0x0A]) }
        if rs256 { try keys.setRS256PublicKey(pem: try TestKeys.rsa.publicPEM) }
        return try await JWTVerifier.make(keys: keys, audience: "chat-service", issuer: issuer, leeway: leeway)
    }

    enum Algorithm: String, CaseIterable, Sendable {
        case hs256, rs256

        func sign(_ claims: ChatTokenClaimsFixture) async throws -> String {
            switch self {
            case .hs256: try await TestKeys.hs256Token(claims)
            case .rs256: try await TestKeys.rs256Token(claims)
            }
        }
    }

    @Test("a valid token grants its chats", arguments: Algorithm.allCases)
    func valid(algorithm: Algorithm) async throws {
        let verifier = try await Self.verifier()
        let token = try await algorithm.sign(.valid(now: Self.now))
        let grant = try verifier.verify(token, now: Self.now).get()
        #expect(grant.kind == .jwt)
        #expect(grant.subject == "alice")
        #expect(grant.scope == .chats(["room-1", "global"]))
        #expect(grant.fingerprint.hasPrefix("sha256:") && grant.fingerprint.count == 15)
        #expect(!grant.fingerprint.contains(token))
        // A connection opened with it is closed at exp plus the leeway (30 s here); JWT dates are whole seconds.
        let claims = ChatTokenClaimsFixture.valid(now: Self.now)
        let expected = claims.exp?.value.addingTimeInterval(30).timeIntervalSince1970.rounded(.down)
        #expect(grant.expiresAt.map { $0.timeIntervalSince1970.rounded(.down) } == expected)
    }

    @Test("expired, beyond the leeway", arguments: Algorithm.allCases)
    func expired(algorithm: Algorithm) async throws {
        let verifier = try await Self.verifier()
        var claims = ChatTokenClaimsFixture.valid(now: Self.now)
        claims.exp = ExpirationClaim(value: Self.now.addingTimeInterval(-31))
        #expect(verifier.verify(try await algorithm.sign(claims), now: Self.now) == .failure(.expired))
        // Within the leeway a slightly fast issuer clock is tolerated.
        claims.exp = ExpirationClaim(value: Self.now.addingTimeInterval(-29))
        #expect((try? verifier.verify(try await algorithm.sign(claims), now: Self.now).get()) != nil)
    }

    @Test("not yet valid (nbf in the future beyond the leeway)", arguments: Algorithm.allCases)
    func notYetValid(algorithm: Algorithm) async throws {
        let verifier = try await Self.verifier()
        var claims = ChatTokenClaimsFixture.valid(now: Self.now)
        claims.nbf = NotBeforeClaim(value: Self.now.addingTimeInterval(120))
        #expect(verifier.verify(try await algorithm.sign(claims), now: Self.now) == .failure(.notYetValid))
        claims.nbf = NotBeforeClaim(value: Self.now.addingTimeInterval(10))
        #expect((try? verifier.verify(try await algorithm.sign(claims), now: Self.now).get()) != nil)
    }

    @Test("wrong or missing audience", arguments: Algorithm.allCases)
    func audience(algorithm: Algorithm) async throws {
        let verifier = try await Self.verifier()
        var claims = ChatTokenClaimsFixture.valid(now: Self.now)
        claims.aud = AudienceClaim(value: ["billing-service"])
        #expect(verifier.verify(try await algorithm.sign(claims), now: Self.now) == .failure(.wrongAudience))
        claims.aud = nil
        #expect(verifier.verify(try await algorithm.sign(claims), now: Self.now) == .failure(.wrongAudience))
        claims.aud = AudienceClaim(value: ["billing-service", "chat-service"])
        #expect((try? verifier.verify(try await algorithm.sign(claims), now: Self.now).get()) != nil)
    }

    @Test("exp is required", arguments: Algorithm.allCases)
    func missingExpiry(algorithm: Algorithm) async throws {
        let verifier = try await Self.verifier()
        var claims = ChatTokenClaimsFixture.valid(now: Self.now)
        claims.exp = nil
        #expect(verifier.verify(try await algorithm.sign(claims), now: Self.now) == .failure(.missingExpiry))
    }

    @Test("issuer is checked when configured", arguments: Algorithm.allCases)
    func issuer(algorithm: Algorithm) async throws {
        let verifier = try await Self.verifier(issuer: "https://id.example.com")
        var claims = ChatTokenClaimsFixture.valid(now: Self.now)
        #expect((try? verifier.verify(try await algorithm.sign(claims), now: Self.now).get()) != nil)
        claims.iss = IssuerClaim(value: "https://evil.example.com")
        #expect(verifier.verify(try await algorithm.sign(claims), now: Self.now) == .failure(.wrongIssuer))
    }

    @Test("bad signatures: another secret, a tampered payload, a flipped signature character")
    func badSignature() async throws {
        let verifier = try await Self.verifier()
        let claims = ChatTokenClaimsFixture.valid(now: Self.now)
        let otherSecret = try await TestKeys.hs256Token(
            claims,
            secret: Array("another-secret-another-secret-another!".utf8)
        )
        #expect(verifier.verify(otherSecret, now: Self.now) == .failure(.badSignature))

        for algorithm in Algorithm.allCases {
            let token = try await algorithm.sign(claims)
            let parts = token.split(separator: ".").map(String.init)
            // Same signature, payload granting every chat.
            var widened = claims
            widened.chats = ["*"]
            let widenedPayload = try await algorithm.sign(widened).split(separator: ".")[1]
            #expect(
                verifier.verify("\(parts[0]).\(widenedPayload).\(parts[2])", now: Self.now) == .failure(.badSignature)
            )
            // One flipped signature character.
            let flipped = (parts[2].first == "A" ? "B" : "A") + parts[2].dropFirst()
            #expect(verifier.verify("\(parts[0]).\(parts[1]).\(flipped)", now: Self.now) == .failure(.badSignature))
        }
    }

    @Test("the key is chosen by configuration: alg none and unconfigured algorithms are refused")
    func algorithmPinning() async throws {
        let claims = ChatTokenClaimsFixture.valid(now: Self.now)
        let rsaOnly = try await Self.verifier(hs256: false, rs256: true)
        #expect(rsaOnly.acceptedAlgorithms == ["RS256"])
        #expect(rsaOnly.verify(try await TestKeys.hs256Token(claims), now: Self.now) == .failure(.unsupportedAlgorithm))
        #expect(rsaOnly.verify(try TestKeys.unsignedToken(claims), now: Self.now) == .failure(.unsupportedAlgorithm))
        let hmacOnly = try await Self.verifier(hs256: true, rs256: false)
        #expect(
            hmacOnly.verify(try await TestKeys.rs256Token(claims), now: Self.now) == .failure(.unsupportedAlgorithm)
        )
    }

    @Test("garbage is malformed, not a crash")
    func malformed() async throws {
        let verifier = try await Self.verifier()
        for token in [
            "a.b.c", "...", "x.y", "eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24.c2ln", String(repeating: "a.", count: 2) + "a",
        ] {
            #expect(verifier.verify(token, now: Self.now) == .failure(.malformed), "\(token)")
        }
    }

    @Test("the chats claim: an array, \"*\", a single name; missing grants nothing")
    func chatsClaim() async throws {
        let verifier = try await Self.verifier()
        var claims = ChatTokenClaimsFixture.valid(now: Self.now)
        claims.chats = ["*"]
        #expect(try verifier.verify(try await TestKeys.hs256Token(claims), now: Self.now).get().scope == .anyChat)
        claims.chats = nil
        #expect(try verifier.verify(try await TestKeys.hs256Token(claims), now: Self.now).get().scope == .chats([]))
        let single = try JSONDecoder().decode(ChatsClaim.self, from: Data(#""room-9""#.utf8))
        #expect(single.scope == .chats(["room-9"]))
    }

    @Test("key files: short HS256 secrets and non-RSA PEM are refused at startup")
    func keyFiles() throws {
        var keys = JWTKeys()
        #expect(throws: AccessSetupError.self) { try keys.setHS256Secret(fileContents: Array("too-short\n".utf8)) }
        #expect(throws: AccessSetupError.self) {
            try keys.setRS256PublicKey(pem: "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")
        }
        #expect(keys.isEmpty)
        try keys.setRS256PublicKey(pem: try TestKeys.rsa.publicPEM)
        #expect(!keys.isEmpty)
    }
}

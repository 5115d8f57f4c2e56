import Access
import Foundation
import NIOHTTP1
import Testing

@Suite("handshake access decisions")
struct AccessControlTests {
    static let staticToken = "svc-token-0123456789abcdef"

    static func control(origins: String = "*", requireOrigin: Bool = false) async throws -> AccessControl {
        var settings = AccessSettings()
        settings.tokens = try StaticTokenSet.parse("\(Self.staticToken) room-1\n")
        try settings.jwtKeys.setHS256Secret(fileContents: TestKeys.hs256Secret)
        try settings.jwtKeys.setRS256PublicKey(pem: try TestKeys.rsa.publicPEM)
        settings.jwtAudience = "chat-service"
        settings.origins = try OriginPolicy.parse(origins, requireOrigin: requireOrigin)
        return try await AccessControl.make(settings)
    }

    static func refusal(_ decision: AccessDecision) -> AccessRefusal? {
        if case .refused(let refusal) = decision { return refusal }
        return nil
    }

    @Test("the default settings check nothing")
    func open() async throws {
        let control = try await AccessControl.make(AccessSettings())
        #expect(!control.requiresCredentials)
        #expect(
            control.authorize(uri: "/send-message/chat/x", headers: ["Origin": "https://evil.example"], chat: "x")
                == .allowed(nil)
        )
    }

    @Test("no token: 401 with a challenge that carries no error code")
    func missing() async throws {
        let refusal = try #require(
            Self.refusal(try await Self.control().authorize(uri: "/send-message/global", headers: [:], chat: "global"))
        )
        #expect(refusal.status == 401 && refusal.code == "unauthorized" && refusal.detail == "missing_token")
        #expect(refusal.challenge == #"Bearer realm="kafka-chat-producer""#)
        #expect(refusal.fingerprint == nil)
    }

    @Test("static token: allowed chat, other chat 403, unknown token 401")
    func staticToken() async throws {
        let control = try await Self.control()
        let headers: HTTPHeaders = ["Authorization": "Bearer \(Self.staticToken)"]
        guard
            case .allowed(let grant?) = control.authorize(
                uri: "/send-message/chat/room-1",
                headers: headers,
                chat: "room-1"
            )
        else {
            Issue.record("expected a grant")
            return
        }
        #expect(grant.kind == .staticToken)
        let forbidden = try #require(
            Self.refusal(control.authorize(uri: "/send-message/chat/room-2", headers: headers, chat: "room-2"))
        )
        #expect(forbidden.status == 403 && forbidden.code == "forbidden" && forbidden.detail == "chat_not_allowed")
        #expect(forbidden.challenge?.contains(#"error="insufficient_scope""#) == true)
        #expect(forbidden.fingerprint == grant.fingerprint)

        let unknown = try #require(
            Self.refusal(
                control.authorize(uri: "/x?access_token=svc-token-0123456789abcdeX", headers: [:], chat: "room-1")
            )
        )
        #expect(unknown.status == 401 && unknown.detail == "unknown_token")
        #expect(unknown.challenge?.contains(#"error="invalid_token""#) == true)
        #expect(unknown.fingerprint == TokenFingerprint.of("svc-token-0123456789abcdeX"))
    }

    @Test("JWT in the query, expired JWT, JWT for another chat")
    func jwt() async throws {
        let control = try await Self.control()
        let now = Date()
        let token = try await TestKeys.rs256Token(.valid(now: now))
        #expect(
            control.authorize(uri: "/send-message/global?access_token=\(token)&ack=1", headers: [:], chat: "global")
                != .allowed(nil)
        )
        guard
            case .allowed(let grant?) = control.authorize(
                uri: "/send-message/global?access_token=\(token)",
                headers: [:],
                chat: "global"
            )
        else {
            Issue.record("expected a grant")
            return
        }
        #expect(grant.subject == "alice")
        #expect(
            Self.refusal(control.authorize(uri: "/x?access_token=\(token)", headers: [:], chat: "room-2"))?.status
                == 403
        )

        var claims = ChatTokenClaimsFixture.valid(now: now)
        claims.exp = .init(value: now.addingTimeInterval(-3600))
        let expired = try await TestKeys.hs256Token(claims)
        let refusal = try #require(
            Self.refusal(control.authorize(uri: "/x", headers: ["Authorization": "Bearer \(expired)"], chat: "global"))
        )
        #expect(refusal.status == 401 && refusal.detail == "expired" && refusal.message == "the token has expired")
        #expect(
            refusal.challenge
                == #"Bearer realm="kafka-chat-producer", error="invalid_token", error_description="the token has expired""#
        )
    }

    @Test("the Origin is checked before the token")
    func originFirst() async throws {
        let control = try await Self.control(origins: "https://chat.example.com")
        let headers: HTTPHeaders = ["Origin": "https://evil.example", "Authorization": "Bearer \(Self.staticToken)"]
        let refusal = try #require(Self.refusal(control.authorize(uri: "/x", headers: headers, chat: "room-1")))
        #expect(refusal.status == 403 && refusal.code == "origin_not_allowed" && refusal.challenge == nil)
        let good: HTTPHeaders = ["Origin": "https://chat.example.com", "Authorization": "Bearer \(Self.staticToken)"]
        #expect(Self.refusal(control.authorize(uri: "/x", headers: good, chat: "room-1")) == nil)
    }

    @Test("no refusal ever carries the token")
    func noSecretsInRefusals() async throws {
        let control = try await Self.control()
        let token = try await TestKeys.hs256Token(.valid())
        for (headers, chat) in [
            (["Authorization": "Bearer \(token)"], "room-2"), (["Authorization": "Bearer \(token)x"], "global"),
        ] as [(HTTPHeaders, String)] {
            let refusal = try #require(Self.refusal(control.authorize(uri: "/x", headers: headers, chat: chat)))
            for text in [refusal.message, refusal.detail, refusal.challenge ?? "", refusal.fingerprint ?? ""] {
                #expect(!text.contains(token))
                #expect(!text.contains(token.split(separator: ".")[2]))
            }
        }
    }

    @Test("recheck after a reload: a rotated JWT key or a removed static token revokes, a kept one holds")
    func recheck() async throws {
        let before = try await Self.control()
        let token = try await TestKeys.hs256Token(.valid())
        guard
            case .allowed(let jwtGrant?) = before.authorize(
                uri: "/x",
                headers: ["Authorization": "Bearer \(token)"],
                chat: "room-1"
            ),
            case .allowed(let staticGrant?) = before.authorize(
                uri: "/x",
                headers: ["Authorization": "Bearer \(Self.staticToken)"],
                chat: "room-1"
            )
        else {
            Issue.record("expected grants")
            return
        }
        #expect(before.recheck(jwtGrant, chat: "room-1") == nil)
        #expect(before.recheck(staticGrant, chat: "room-1") == nil)

        // The HS256 secret is rotated away (RS256 stays) and the static token's line is gone.
        var settings = AccessSettings()
        settings.tokens = try StaticTokenSet.parse("another-token-0123456789\n")
        try settings.jwtKeys.setRS256PublicKey(pem: try TestKeys.rsa.publicPEM)
        settings.jwtAudience = "chat-service"
        let after = try await AccessControl.make(settings)
        let revokedJWT = try #require(after.recheck(jwtGrant, chat: "room-1"))
        #expect(revokedJWT.detail == "revoked" && revokedJWT.fingerprint == jwtGrant.fingerprint)
        #expect(after.recheck(staticGrant, chat: "room-1")?.detail == "revoked")
        #expect(after.recheck(nil, chat: "room-1")?.detail == "token_required")

        // Kept, but for another chat only.
        settings.tokens = try StaticTokenSet.parse("\(Self.staticToken) room-2\n")
        let narrowed = try await AccessControl.make(settings)
        #expect(narrowed.recheck(staticGrant, chat: "room-1")?.detail == "chat_not_allowed")
        #expect(narrowed.recheck(staticGrant, chat: "room-2") == nil)

        // Credentials no longer required: every connection may stay.
        #expect(try await AccessControl.make(AccessSettings()).recheck(staticGrant, chat: "room-1") == nil)
    }
}

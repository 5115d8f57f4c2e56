import Access
import NIOHTTP1
import Testing

@Suite("Origin allowlist (http.allowed_origins, http.require_origin)")
struct OriginPolicyTests {
    static func headers(_ origins: String...) -> HTTPHeaders {
        HTTPHeaders(origins.map { ("Origin", $0) })
    }

    @Test("* allows anything, and a missing Origin")
    func any() throws {
        let policy = try OriginPolicy.parse("*", requireOrigin: false)
        #expect(policy.isOpen)
        #expect(policy.refusal(for: Self.headers("https://evil.example")) == nil)
        #expect(policy.refusal(for: Self.headers()) == nil)
    }

    @Test("listed origins only, compared exactly (case-insensitively)")
    func list() throws {
        let policy = try OriginPolicy.parse("https://chat.example.com, http://localhost:3000/", requireOrigin: false)
        #expect(policy.refusal(for: Self.headers("https://chat.example.com")) == nil)
        #expect(policy.refusal(for: Self.headers("HTTPS://Chat.Example.com")) == nil)
        #expect(policy.refusal(for: Self.headers("http://localhost:3000")) == nil)
        #expect(policy.refusal(for: Self.headers("https://chat.example.com.evil.net")) != nil)
        #expect(policy.refusal(for: Self.headers("http://chat.example.com")) != nil)
        #expect(policy.refusal(for: Self.headers("https://chat.example.com:8443")) != nil)
        #expect(policy.refusal(for: Self.headers("null")) != nil)
        #expect(policy.refusal(for: Self.headers("https://chat.example.com", "https://chat.example.com")) != nil)
        // Non-browser clients send no Origin.
        #expect(policy.refusal(for: Self.headers()) == nil)
    }

    @Test("http.require_origin refuses handshakes without one")
    func required() throws {
        #expect(
            try OriginPolicy.parse("https://chat.example.com", requireOrigin: true).refusal(for: Self.headers()) != nil
        )
        let any = try OriginPolicy.parse("*", requireOrigin: true)
        #expect(!any.isOpen)
        #expect(any.refusal(for: Self.headers()) != nil)
        #expect(any.refusal(for: Self.headers("https://x.example")) == nil)
    }

    @Test(
        "bad settings",
        arguments: [
            "", " , ", "chat.example.com", "https://chat.example.com/app", "*, https://a.example",
            "https://user@a.example", "https://",
        ]
    )
    func refusedSettings(text: String) {
        #expect(throws: AccessSetupError.self) { try OriginPolicy.parse(text, requireOrigin: false) }
    }
}

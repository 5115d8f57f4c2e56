import Access
import Testing

@Suite("static bearer tokens (auth.tokens_file)")
struct StaticTokenSetTests {
    static let file = """
        # service tokens
        svc-0123456789abcdef-all
        svc-0123456789abcdef-star   *
        svc-0123456789abcdef-two    room-1,room-2
        \tsvc-0123456789abcdef-glob\tglobal\r

        sha256:\(String(repeating: "ab", count: 32)) room-3
        """

    @Test("lines, comments, chat lists and sha256 entries")
    func parse() throws {
        let set = try StaticTokenSet.parse(Self.file)
        #expect(set.tokens.count == 5)
        #expect(set.match("svc-0123456789abcdef-all")?.scope == .anyChat)
        #expect(set.match("svc-0123456789abcdef-star")?.scope == .anyChat)
        #expect(set.match("svc-0123456789abcdef-two")?.scope == .chats(["room-1", "room-2"]))
        #expect(set.match("svc-0123456789abcdef-glob")?.scope == .chats(["global"]))
        #expect(set.match("svc-0123456789abcdef-glob")?.line == 5)
        #expect(set.tokens[4].digest == TokenDigest(bytes: Array(repeating: 0xAB, count: 32)))
        #expect(set.tokens[4].fingerprint == "sha256:abababab")
    }

    @Test("only exact tokens match")
    func match() throws {
        let set = try StaticTokenSet.parse(Self.file)
        #expect(set.match("svc-0123456789abcdef-al") == nil)
        #expect(set.match("svc-0123456789abcdef-all ") == nil)
        #expect(set.match("SVC-0123456789abcdef-all") == nil)
        #expect(set.match("") == nil)
    }

    @Test("a sha256: entry matches the token it is the hash of")
    func hashedEntry() throws {
        // printf %s 'hashed-token-0123456789' | sha256sum
        let set = try StaticTokenSet.parse("sha256:\(TokenFingerprintTests.hashedTokenDigest) room-9\n")
        #expect(set.match("hashed-token-0123456789")?.scope == .chats(["room-9"]))
    }

    @Test(
        "bad files are refused with the line, never the token",
        arguments: [
            ("short-token\n", "line 1: token is shorter than 16"),
            ("svc-0123456789abcdef-all\nsvc-0123456789abcdef-all room\n", "line 2: same token as line 1"),
            ("svc-0123456789abcdef-all room-1, room-2\n", "line 1: expected"),
            ("svc-0123456789abcdef-all room-1,,room-2\n", "line 1: empty chat name"),
            ("svc-0123456789abcdef\"all\n", "line 1: a token may contain only"),
            ("sha256:abcd room\n", "line 1: sha256: must be followed by 64 hex digits"),
            ("# nothing\n\n", "holds no token"),
        ]
    )
    func refused(contents: String, message: String) {
        do {
            _ = try StaticTokenSet.parse(contents)
            Issue.record("expected an error for \(contents.debugDescription)")
        } catch {
            #expect(error.message.hasPrefix(message), "\(error.message)")
            #expect(!error.message.contains("0123456789abcdef"))
        }
    }
}

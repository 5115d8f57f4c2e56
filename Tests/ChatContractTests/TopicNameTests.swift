import ChatContract
import Testing

@Suite("Topic names")
struct TopicNameTests {
    private func topic(_ chat: String) throws(TopicNameError) -> TopicName {
        try TopicName.forChat(chat[...])
    }

    private func error(_ chat: String, sourceLocation: SourceLocation = #_sourceLocation) -> TopicNameError? {
        do {
            let name = try topic(chat)
            Issue.record("unexpectedly accepted: \(name)", sourceLocation: sourceLocation)
            return nil
        } catch {
            return error
        }
    }

    @Test("the global topic and the prefix")
    func constants() throws {
        #expect(TopicName.global.value == "kafka.chat.global")
        #expect(TopicName.global.description == "kafka.chat.global")
        #expect(TopicName.chatPrefix == "kafka.chat.")
        #expect(try topic("global") == TopicName.global)
    }

    @Test(
        "valid chat names build kafka.chat.<chat>",
        arguments: [
            "a", "Z", "0", "_", "-", "lobby", "Room-42", "a.b_c-d", "...", ".a", "a..", ".-",
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-",
        ]
    )
    func valid(chat: String) throws {
        let name = try topic(chat)
        #expect(name.value == "kafka.chat." + chat)
        #expect(name.description == name.value)
    }

    @Test("a topic of exactly 249 characters is accepted, 250 is not")
    func lengthLimit() throws {
        let longest = String(repeating: "x", count: 238)
        let name = try topic(longest)
        #expect(name.value.count == 249)
        #expect(TopicName.maxChatNameLength == 238)

        let tooLong = error(longest + "y")
        #expect(
            tooLong?.message == "chat name is 239 bytes long, at most 238 are allowed (topic names are limited to 249)"
        )
        #expect(error(String(repeating: "x", count: 10_000))?.message.contains("10000 bytes long") == true)
    }

    @Test("an empty chat name is refused")
    func empty() {
        #expect(error("")?.message == "chat name is empty")
    }

    @Test("the dot-segments . and .. are refused (RFC 3986 §5.2.4 removes them from paths)")
    func dotSegments() {
        #expect(
            error(".")?.message == #"chat name "." is a URL dot-segment, which clients and proxies remove from paths"#
        )
        #expect(
            error("..")?.message == #"chat name ".." is a URL dot-segment, which clients and proxies remove from paths"#
        )
    }

    @Test(
        "each character outside A-Z a-z 0-9 . _ - is named",
        arguments: [
            ("a b", #"chat name "a b" contains ' ', only A-Z a-z 0-9 . _ - are allowed"#),
            ("a/b", "contains '/'"),
            ("a#b", "contains '#'"),
            ("a+b", "contains '+'"),
            ("a:b", "contains ':'"),
            ("a%20b", "contains '%'"),
            ("a\"b", "contains '\"'"),
            ("über", "contains 'ü' (U+00FC)"),
            ("chat😀", "contains '😀' (U+1F600)"),
            ("a\u{7}b", "contains U+0007"),
            ("a\tb", "contains U+0009"),
            ("a\u{0}", "contains U+0000"),
            ("a\u{7F}", "contains U+007F"),
            ("a\u{A0}b", "contains U+00A0"),
            ("a\u{200B}b", "contains U+200B"),
        ]
    )
    func invalidCharacter(chat: String, expected: String) {
        let message = error(chat)?.message ?? ""
        #expect(message.contains(expected), "message was: \(message)")
        #expect(message.hasPrefix("chat name \(chat.debugDescription) contains "))
    }

    @Test("a chat name taken from a larger string is validated on its own")
    func substring() throws {
        let path = "/chat/team-7/ws"
        let chat = path.split(separator: "/")[1]
        #expect(try TopicName.forChat(chat).value == "kafka.chat.team-7")
    }

    @Test("topic names work as dictionary keys")
    func hashable() throws {
        let names: Set<TopicName> = [try topic("a"), try topic("a"), try topic("b"), .global]
        #expect(names.count == 3)
    }
}

import ChatContract
import Ingest

/// Which chats the daemon accepts: names must fully match an operator's pattern and, when an allowlist
/// is set, be on it. Checked once per handshake, after the name was found to be a legal topic name.
///
/// The global topic is always accepted (through either endpoint), so a restrictive policy never breaks the
/// daemon's main endpoint.
public struct ChatPolicy: Sendable {
    /// Today's rule, the characters Kafka allows in a topic name; the length is checked by `TopicName`.
    public static let defaultPattern = "[A-Za-z0-9._-]+"

    public let pattern: String
    /// Empty: any chat that matches the pattern.
    public let allowedChats: Set<String>
    /// nil for the default pattern, which `TopicName` already enforces: no regex runs then.
    private let regex: ChatPattern?

    /// Accepts every legal chat name.
    public init() {
        self.pattern = Self.defaultPattern
        self.allowedChats = []
        self.regex = nil
    }

    /// Throws the regex compiler's error for a malformed pattern.
    public init(pattern: String, allowedChats: some Sequence<String> = []) throws {
        self.pattern = pattern
        self.allowedChats = Set(allowedChats)
        self.regex = pattern == Self.defaultPattern ? nil : try ChatPattern(pattern)
    }

    /// True when nothing beyond the topic-name rules is checked.
    var acceptsEveryLegalName: Bool { self.regex == nil && self.allowedChats.isEmpty }

    /// Why `topic` may not be used, for the client's 403; nil when it may.
    func refusal(for topic: TopicName) -> String? {
        guard !self.acceptsEveryLegalName, topic != .global else { return nil }
        let chat = Substring(topic.value).dropFirst(TopicName.chatPrefix.count)
        if let regex = self.regex, !regex.matchesEntirely(chat) {
            return "chat name \"\(chat)\" does not match the pattern chat names must have on this server"
        }
        if !self.allowedChats.isEmpty, !self.allowedChats.contains(String(chat)) {
            return "chat \"\(chat)\" is not open on this server"
        }
        return nil
    }
}

/// The chats a credential may write to: every chat, or a list. `global` names the global endpoint
/// (its topic, `kafka.chat.global`, is also the topic of a chat called `global`).
public enum ChatScope: Sendable, Equatable {
    case anyChat
    case chats(Set<String>)

    /// `*` alone means every chat; otherwise chat names.
    public init(_ names: some Sequence<some StringProtocol>) {
        let names = Set(names.map { String($0) })
        self = names.contains("*") ? .anyChat : .chats(names)
    }

    public func allows(_ chat: String) -> Bool {
        switch self {
        case .anyChat: true
        case .chats(let names): names.contains(chat)
        }
    }
}

/// The `chats` claim of a token: an array of chat names (`["room-1","global"]`), or `"*"` for every
/// chat. A single name as a string is accepted too.
public struct ChatsClaim: Codable, Sendable, Equatable {
    public let scope: ChatScope

    public init(scope: ChatScope) {
        self.scope = scope
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let name = try? container.decode(String.self) {
            self.scope = ChatScope([name])
        } else {
            self.scope = ChatScope(try container.decode([String].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self.scope {
        case .anyChat: try container.encode("*")
        case .chats(let names): try container.encode(names.sorted())
        }
    }
}

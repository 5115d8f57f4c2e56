/// Why a chat message was refused, in a form the gateway can act on and send back.
///
/// `reason` drives the connection's reaction (invalid UTF-8 closes the WebSocket with 1007, the
/// rest get an error reply); `message` is for the human reading that reply.
public struct ChatMessageRejection: Error, Sendable, Equatable {
    public enum Reason: String, Sendable {
        case invalidUTF8 = "invalid_utf8"
        case invalidJSON = "invalid_json"
        case notAnObject = "not_an_object"
        case missingField = "missing_field"
        case wrongType = "wrong_type"
        case duplicateField = "duplicate_field"
        case invalidID = "invalid_id"
    }

    public var reason: Reason
    /// Human readable, naming what is wrong and where (0-based byte offsets into the payload).
    public var message: String
    /// The client's `id` token, if it was fully read before the problem was found, so the error
    /// reply can echo it. Field-level problems (missing, wrong type, duplicate, bad id) are only
    /// decided once the whole message has parsed, so for them an `id` anywhere is echoed.
    public var id: TokenSpan?

    public init(reason: Reason, message: String, id: TokenSpan? = nil) {
        self.reason = reason
        self.message = message
        self.id = id
    }
}

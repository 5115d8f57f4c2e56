/// A Kafka topic name that is known to be legal, so the ring registry and the producer never see
/// a name librdkafka would refuse (that would only surface later, asynchronously, per message).
public struct TopicName: Hashable, Sendable, CustomStringConvertible {
    public let value: String

    /// Where every chat's messages go; the topic of the chat named `global`.
    public static let global = TopicName(checked: "kafka.chat.global")
    /// Every chat topic is this prefix followed by the chat name.
    public static let chatPrefix = "kafka.chat."
    /// Kafka's limit on a topic name's length.
    public static let maxLength = 249
    /// The longest chat name that still fits in a topic name after the prefix.
    public static let maxChatNameLength = maxLength - chatPrefix.utf8.count

    private init(checked value: String) {
        self.value = value
    }

    public var description: String { value }

    /// Validates the (already percent-decoded) chat name and builds "kafka.chat.<chat>".
    ///
    /// Kafka's rules for the whole topic: only `A-Z a-z 0-9 . _ -`, at most 249 characters, not
    /// `.` or `..` (the prefix rules those two out). Since only ASCII is allowed, characters and
    /// UTF-8 bytes count the same.
    ///
    /// The chat name itself may not be `.` or `..` either: in a URL path those are dot-segments
    /// (RFC 3986 §3.3, §5.2.4), which clients and proxies remove, so no client could name such a chat
    /// reliably; the topics they would make (`kafka.chat..`, `kafka.chat...`) are refused instead.
    public static func forChat(_ chat: Substring) throws(TopicNameError) -> TopicName {
        guard !chat.isEmpty else {
            throw TopicNameError(message: "chat name is empty")
        }
        guard chat != "." && chat != ".." else {
            throw TopicNameError(
                message:
                    "chat name \(chat.debugDescription) is a URL dot-segment, which clients and proxies remove from paths"
            )
        }
        // Length first, so a huge name is refused without being echoed back.
        let length = chat.utf8.count
        guard length <= maxChatNameLength else {
            throw TopicNameError(
                message:
                    "chat name is \(length) bytes long, at most \(maxChatNameLength) are allowed (topic names are limited to \(maxLength))"
            )
        }
        for scalar in chat.unicodeScalars where !isAllowed(scalar) {
            throw TopicNameError(
                message:
                    "chat name \(chat.debugDescription) contains \(printable(scalar)), only A-Z a-z 0-9 . _ - are allowed"
            )
        }
        return TopicName(checked: chatPrefix + chat)
    }

    private static func isAllowed(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "A"..."Z", "a"..."z", "0"..."9", ".", "_", "-": true
        default: false
        }
    }

    /// `' '` for printable ASCII, `'é' (U+00E9)` for other printable characters, `U+0007` otherwise.
    private static func printable(_ scalar: Unicode.Scalar) -> String {
        let code =
            "U+" + String(repeating: "0", count: max(0, 4 - String(scalar.value, radix: 16).count))
            + String(scalar.value, radix: 16, uppercase: true)
        if scalar.isASCII {
            return scalar.value >= 0x20 && scalar.value < 0x7F ? "'\(scalar)'" : code
        }
        let properties = scalar.properties
        let invisible =
            properties.generalCategory == .control || properties.generalCategory == .format
            || properties.generalCategory == .surrogate || properties.generalCategory == .privateUse
            || properties.generalCategory == .unassigned || properties.isWhitespace
            || properties.generalCategory == .nonspacingMark || properties.generalCategory == .lineSeparator
            || properties.generalCategory == .paragraphSeparator
        return invisible ? code : "'\(scalar)' (\(code))"
    }
}

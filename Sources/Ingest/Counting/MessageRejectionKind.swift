import ChatContract

/// Why a received message was not accepted, as a small closed set: the `reason` label of
/// `kcp_messages_rejected_total`, so the label can never grow with client input.
public enum MessageRejectionKind: Int, CaseIterable, Sendable {
    case invalidUTF8
    case invalidJSON
    case notAnObject
    case missingField
    case wrongType
    case duplicateField
    case invalidID
    /// Larger than a topic ring can hold.
    case messageTooLarge
    /// A binary frame: the contract is JSON text.
    case unsupportedFrame
    /// Read from the socket, but the daemon stopped before it fit a ring.
    case shuttingDown

    public init(_ reason: ChatMessageRejection.Reason) {
        switch reason {
        case .invalidUTF8: self = .invalidUTF8
        case .invalidJSON: self = .invalidJSON
        case .notAnObject: self = .notAnObject
        case .missingField: self = .missingField
        case .wrongType: self = .wrongType
        case .duplicateField: self = .duplicateField
        case .invalidID: self = .invalidID
        }
    }

    /// The label value.
    public var label: String {
        switch self {
        case .invalidUTF8: "invalid_utf8"
        case .invalidJSON: "invalid_json"
        case .notAnObject: "not_an_object"
        case .missingField: "missing_field"
        case .wrongType: "wrong_type"
        case .duplicateField: "duplicate_field"
        case .invalidID: "invalid_id"
        case .messageTooLarge: "message_too_large"
        case .unsupportedFrame: "unsupported_frame"
        case .shuttingDown: "shutting_down"
        }
    }
}

/// A close status code (RFC 6455 §7.4).
///
/// A struct rather than an enum so that any code a peer sends (including the 3000–4999 private ranges)
/// can be carried without a catch-all case, while the well-known codes still read as names.
public struct WebSocketCloseCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt16

    public init(rawValue: UInt16) {
        self.rawValue = rawValue
    }

    public static let normalClosure = WebSocketCloseCode(rawValue: 1000)
    public static let goingAway = WebSocketCloseCode(rawValue: 1001)
    public static let protocolError = WebSocketCloseCode(rawValue: 1002)
    public static let unsupportedData = WebSocketCloseCode(rawValue: 1003)
    public static let invalidFramePayloadData = WebSocketCloseCode(rawValue: 1007)
    public static let policyViolation = WebSocketCloseCode(rawValue: 1008)
    public static let messageTooBig = WebSocketCloseCode(rawValue: 1009)
    public static let mandatoryExtension = WebSocketCloseCode(rawValue: 1010)
    public static let internalServerError = WebSocketCloseCode(rawValue: 1011)
    public static let serviceRestart = WebSocketCloseCode(rawValue: 1012)
    public static let tryAgainLater = WebSocketCloseCode(rawValue: 1013)
    public static let badGateway = WebSocketCloseCode(rawValue: 1014)

    /// Whether a peer may put this code in a close frame.
    ///
    /// Accepted: 1000–1003 and 1007–1014 (every code the IANA registry assigns for use on the wire),
    /// and 3000–4999 (registered libraries/frameworks and private use).
    /// Rejected: 1004 (reserved), 1005/1006/1015 (must never be sent: they stand for "no code",
    /// "abnormal closure" and "TLS failure" locally), the unassigned rest of 1000–2999, and anything
    /// below 1000 or above 4999.
    public var isValidOnWire: Bool {
        switch rawValue {
        case 1000...1003, 1007...1014, 3000...4999: true
        default: false
        }
    }

    public var description: String {
        "WebSocketCloseCode(\(rawValue))"
    }
}

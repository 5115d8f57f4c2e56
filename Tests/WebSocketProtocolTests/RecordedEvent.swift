import WebSocketProtocol

/// An owned, unmasked copy of a `WebSocketEvent`, so tests can compare events after the callback returned.
enum RecordedEvent: Equatable, CustomStringConvertible {
    case text([UInt8])
    case binary([UInt8])
    case ping([UInt8])
    case pong
    case close(code: UInt16?, reason: [UInt8])

    init(_ event: WebSocketEvent) {
        switch event {
        case .text(let payload): self = .text(Self.unmasked(payload))
        case .binary(let payload): self = .binary(Self.unmasked(payload))
        case .ping(let payload): self = .ping(Self.unmasked(payload))
        case .pong: self = .pong
        case .close(let code, let reason): self = .close(code: code?.rawValue, reason: Self.unmasked(reason))
        }
    }

    static func unmasked(_ payload: WebSocketPayload) -> [UInt8] {
        (0..<payload.count).map { payload.unmaskedByte(at: $0) }
    }

    static func text(_ string: String) -> RecordedEvent {
        .text(Array(string.utf8))
    }

    var description: String {
        switch self {
        case .text(let bytes): "text(\(bytes.count) bytes)"
        case .binary(let bytes): "binary(\(bytes.count) bytes)"
        case .ping(let bytes): "ping(\(bytes))"
        case .pong: "pong"
        case .close(let code, let reason): "close(\(code.map(String.init) ?? "nil"), \(reason))"
        }
    }
}

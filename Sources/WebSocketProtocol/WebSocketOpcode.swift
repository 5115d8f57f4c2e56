/// A frame opcode (RFC 6455 §5.2) that this module understands.
///
/// Unknown opcodes (3–7, 0xB–0xF) have no case: without a negotiated extension they are a protocol
/// error, so `init(rawValue:)` returning nil is exactly the check the reader needs.
public enum WebSocketOpcode: UInt8, Sendable {
    case continuation = 0x0
    case text = 0x1
    case binary = 0x2
    case close = 0x8
    case ping = 0x9
    case pong = 0xA

    /// Control frames (close, ping, pong) have the high opcode bit set; they must be short and unfragmented.
    @inlinable
    public var isControl: Bool {
        rawValue & 0x8 != 0
    }
}

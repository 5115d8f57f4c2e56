/// What travels with a message through librdkafka as its 64-bit opaque, so that its delivery report can
/// find its way back to the connection that sent it without a heap object per message.
///
/// Layout, high bit first: `wantsAck:1 | route:7 | slot:20 | generation:12 | sequence:24`.
/// `route` names the event loop that owns the connection; `slot`/`generation` name the connection in that
/// loop's table (the generation tells a reused slot from the old one); `sequence` is the message's number
/// on the connection, which keys its pending ack.
public struct MessageTicket: Hashable, Sendable {
    public let rawValue: UInt64

    public static let maxRoutes = 1 << 7
    public static let maxSlots = 1 << 20
    public static let generationMask: UInt32 = (1 << 12) - 1
    public static let sequenceMask: UInt32 = (1 << 24) - 1

    public init(rawValue: UInt64) {
        self.rawValue = rawValue
    }

    public init(wantsAck: Bool, route: Int, slot: Int, generation: UInt32, sequence: UInt32) {
        precondition(route >= 0 && route < Self.maxRoutes && slot >= 0 && slot < Self.maxSlots)
        var value = UInt64(wantsAck ? 1 : 0) << 63
        value |= UInt64(route) << 56
        value |= UInt64(slot) << 36
        value |= UInt64(generation & Self.generationMask) << 24
        value |= UInt64(sequence & Self.sequenceMask)
        self.rawValue = value
    }

    public var wantsAck: Bool { self.rawValue >> 63 == 1 }
    public var route: Int { Int((self.rawValue >> 56) & 0x7F) }
    public var slot: Int { Int((self.rawValue >> 36) & 0xF_FFFF) }
    public var generation: UInt32 { UInt32((self.rawValue >> 24) & 0xFFF) }
    public var sequence: UInt32 { UInt32(self.rawValue & 0xFF_FFFF) }
}

import NIOCore

/// A frame the server wrote (unmasked), parsed back for assertions.
struct ServerFrame: Equatable, CustomStringConvertible {
    var opcode: UInt8
    var payload: [UInt8]

    static let text: UInt8 = 0x1
    static let close: UInt8 = 0x8
    static let ping: UInt8 = 0x9
    static let pong: UInt8 = 0xA

    var text: String { String(decoding: self.payload, as: UTF8.self) }

    /// For a close frame: its code, nil when it has none.
    var closeCode: UInt16? { self.payload.count >= 2 ? UInt16(self.payload[0]) << 8 | UInt16(self.payload[1]) : nil }
    var closeReason: String { String(decoding: self.payload.dropFirst(2), as: UTF8.self) }

    var description: String {
        self.opcode == Self.close
            ? "close(\(self.closeCode.map(String.init) ?? "-"), \(self.closeReason))"
            : "frame(\(self.opcode), \(self.text))"
    }

    /// Every frame in `buffer`; fails on anything but final, unmasked frames.
    static func parse(_ buffer: ByteBuffer) -> [ServerFrame]? {
        var bytes = Array(buffer.readableBytesView)[...]
        var frames: [ServerFrame] = []
        while !bytes.isEmpty {
            guard bytes.count >= 2, bytes[bytes.startIndex] & 0xF0 == 0x80, bytes[bytes.startIndex + 1] & 0x80 == 0
            else { return nil }
            let opcode = bytes[bytes.startIndex] & 0x0F
            var length = Int(bytes[bytes.startIndex + 1])
            var header = 2
            if length == 126 {
                guard bytes.count >= 4 else { return nil }
                length = Int(bytes[bytes.startIndex + 2]) << 8 | Int(bytes[bytes.startIndex + 3])
                header = 4
            } else if length == 127 {
                return nil  // no reply is that long
            }
            guard bytes.count >= header + length else { return nil }
            frames.append(ServerFrame(opcode: opcode, payload: Array(bytes.dropFirst(header).prefix(length))))
            bytes = bytes.dropFirst(header + length)
        }
        return frames
    }
}

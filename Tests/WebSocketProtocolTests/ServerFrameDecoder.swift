import NIOCore

/// A strict decoder for server-to-client frames (unmasked), to check what the writer produced.
enum ServerFrameDecoder {
    struct Frame: Equatable {
        var fin: Bool
        var opcode: UInt8
        var payload: [UInt8]
        /// 2, 4 or 10: tells which length form was used.
        var headerLength: Int
    }

    struct Malformed: Error, CustomStringConvertible {
        var description: String
    }

    static func decodeAll(_ buffer: ByteBuffer) throws -> [Frame] {
        var buffer = buffer
        var frames: [Frame] = []
        while buffer.readableBytes > 0 {
            frames.append(try decode(&buffer))
        }
        return frames
    }

    static func decode(_ buffer: inout ByteBuffer) throws -> Frame {
        guard let byte0 = buffer.readInteger(as: UInt8.self), let byte1 = buffer.readInteger(as: UInt8.self) else {
            throw Malformed(description: "truncated header")
        }
        if byte0 & 0x70 != 0 { throw Malformed(description: "RSV bits set") }
        if byte1 & 0x80 != 0 { throw Malformed(description: "server frame is masked") }
        var headerLength = 2
        var length = UInt64(byte1 & 0x7F)
        if length == 126 {
            guard let extended = buffer.readInteger(as: UInt16.self) else {
                throw Malformed(description: "truncated length")
            }
            if extended < 126 { throw Malformed(description: "non-minimal 16-bit length") }
            length = UInt64(extended)
            headerLength = 4
        } else if length == 127 {
            guard let extended = buffer.readInteger(as: UInt64.self) else {
                throw Malformed(description: "truncated length")
            }
            if extended <= 0xFFFF || extended >> 63 != 0 { throw Malformed(description: "bad 64-bit length") }
            length = extended
            headerLength = 10
        }
        guard let payload = buffer.readBytes(length: Int(length)) else {
            throw Malformed(description: "truncated payload")
        }
        return Frame(fin: byte0 & 0x80 != 0, opcode: byte0 & 0x0F, payload: payload, headerLength: headerLength)
    }
}

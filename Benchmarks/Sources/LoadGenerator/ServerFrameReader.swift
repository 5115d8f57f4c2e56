import NIOCore

/// Splits the daemon's byte stream into frames and classifies ack frames by their first bytes, without
/// Foundation or a JSON parser: the daemon writes `{"ack":ID,…}` / `{"nack":ID,…}` with the id first,
/// so a prefix check and a digit loop are enough.
enum ServerFrameReader {
    /// Frames bigger than this are not something the daemon sends; treat them as a protocol error rather
    /// than buffering without bound.
    static let maxFrameBytes = 1 << 20

    /// The next complete frame in `buffer` (consumed), or nil when more bytes are needed.
    static func next(from buffer: inout ByteBuffer) throws(LoadGeneratorError) -> ServerFrame? {
        let start = buffer.readerIndex
        guard let first = buffer.getInteger(at: start, as: UInt8.self),
            let second = buffer.getInteger(at: start + 1, as: UInt8.self)
        else { return nil }
        guard second & 0x80 == 0 else { throw .protocolViolation("masked frame from the server") }
        var headerLength = 2
        var length = Int(second & 0x7F)
        if length == 126 {
            guard let extended = buffer.getInteger(at: start + 2, as: UInt16.self) else { return nil }
            length = Int(extended)
            headerLength = 4
        } else if length == 127 {
            guard let extended = buffer.getInteger(at: start + 2, as: UInt64.self) else { return nil }
            guard extended <= UInt64(Self.maxFrameBytes) else { throw .protocolViolation("frame of \(extended) bytes") }
            length = Int(extended)
            headerLength = 10
        }
        guard length <= Self.maxFrameBytes else { throw .protocolViolation("frame of \(length) bytes") }
        guard buffer.readableBytes >= headerLength + length else { return nil }
        let payloadStart = start + headerLength
        defer { buffer.moveReaderIndex(forwardBy: headerLength + length) }

        switch first & 0x0F {
        case 0x1:
            return buffer.withUnsafeReadableBytes { bytes in
                Self.classifyText(UnsafeRawBufferPointer(rebasing: bytes[headerLength..<(headerLength + length)]))
            }
        case 0x8:
            guard length >= 2, let code = buffer.getInteger(at: payloadStart, as: UInt16.self) else {
                return .close(1005)
            }
            return .close(code)
        case 0x9:
            return .ping(buffer.getSlice(at: payloadStart, length: length)!)
        default:
            return .other
        }
    }

    private static let ackPrefix = Array(#"{"ack":"#.utf8)
    private static let nackPrefix = Array(#"{"nack":"#.utf8)
    private static let errorPrefix = Array(#"{"error":"#.utf8)

    @inline(__always)
    static func classifyText(_ text: UnsafeRawBufferPointer) -> ServerFrame {
        if Self.hasPrefix(text, Self.ackPrefix) {
            return Self.number(text, from: Self.ackPrefix.count).map(ServerFrame.ack) ?? .rejected
        }
        if Self.hasPrefix(text, Self.nackPrefix) {
            return Self.number(text, from: Self.nackPrefix.count).map(ServerFrame.nack) ?? .rejected
        }
        if Self.hasPrefix(text, Self.errorPrefix) { return .rejected }
        return .otherText
    }

    @inline(__always)
    private static func hasPrefix(_ text: UnsafeRawBufferPointer, _ prefix: [UInt8]) -> Bool {
        guard text.count >= prefix.count else { return false }
        for index in 0..<prefix.count where text[index] != prefix[index] { return false }
        return true
    }

    /// The decimal number starting at `offset`, ending at a non-digit; nil when there is no digit.
    @inline(__always)
    private static func number(_ text: UnsafeRawBufferPointer, from offset: Int) -> Int? {
        var value = 0
        var index = offset
        while index < text.count, index - offset < 18 {
            let byte = text[index]
            guard byte >= 48, byte <= 57 else { break }
            value = value * 10 + Int(byte - 48)
            index += 1
        }
        return index > offset ? value : nil
    }
}

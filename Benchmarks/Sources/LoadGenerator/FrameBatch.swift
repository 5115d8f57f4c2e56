import NIOCore

/// `capacity` masked WebSocket text frames of one connection, prebuilt back to back. A write copies the
/// first n frames into one ByteBuffer and patches each frame's sequence digits (already masked), so a
/// batch costs one allocation and one memcpy, and a message a dozen byte stores.
///
/// The mask is fixed: RFC 6455 wants it unpredictable to protect proxies from cache poisoning, which is
/// irrelevant between a load generator and a daemon on loopback; the server only requires it to be present.
struct FrameBatch {
    static let mask: UInt32 = 0x37FA_213D

    let frameLength: Int
    let capacity: Int
    private let frames: [UInt8]
    /// Offset of the sequence field inside one frame, and its mask phase inside the payload.
    private let sequenceOffset: Int
    private let sequencePhase: Int

    init(message: MessageTemplate, capacity: Int) {
        let payload = message.bytes
        var header: [UInt8] = [0x81]  // FIN + text
        if payload.count < 126 {
            header.append(0x80 | UInt8(payload.count))
        } else if payload.count <= 0xFFFF {
            header += [0x80 | 126, UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)]
        } else {
            header.append(0x80 | 127)
            header += (0..<8).reversed().map { UInt8(truncatingIfNeeded: UInt64(payload.count) >> (8 * UInt64($0))) }
        }
        header += (0..<4).map { MessageTemplate.maskByte(Self.mask, phase: $0) }
        var frame = header
        frame += payload.enumerated().map { $0.element ^ MessageTemplate.maskByte(Self.mask, phase: $0.offset) }

        self.frameLength = frame.count
        self.capacity = capacity
        self.sequenceOffset = header.count + message.sequenceOffset
        self.sequencePhase = message.sequenceOffset & 3
        var frames: [UInt8] = []
        frames.reserveCapacity(frame.count * capacity)
        for _ in 0..<capacity { frames += frame }
        self.frames = frames
    }

    /// Appends `count` (≤ capacity) frames carrying sequences `firstSequence`, `firstSequence + 1`, … .
    func write(count: Int, firstSequence: Int, into buffer: inout ByteBuffer) {
        precondition(count <= self.capacity)
        let bytes = count * self.frameLength
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: bytes) { destination in
            self.frames.withUnsafeBytes { source in
                destination.baseAddress!.copyMemory(from: source.baseAddress!, byteCount: bytes)
            }
            let base = destination.baseAddress!.assumingMemoryBound(to: UInt8.self)
            for index in 0..<count {
                MessageTemplate.patchSequence(
                    firstSequence + index,
                    at: base + index * self.frameLength + self.sequenceOffset,
                    mask: Self.mask,
                    maskPhase: self.sequencePhase
                )
            }
            return bytes
        }
    }

    /// A masked close frame with `code` (the client must mask every frame, control frames included).
    static func closeFrame(code: UInt16, allocator: ByteBufferAllocator) -> ByteBuffer {
        Self.controlFrame(opcode: 0x8, payload: [UInt8(code >> 8), UInt8(code & 0xFF)], allocator: allocator)
    }

    static func controlFrame(opcode: UInt8, payload: [UInt8], allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 6 + payload.count)
        buffer.writeInteger(0x80 | opcode)
        buffer.writeInteger(0x80 | UInt8(payload.count))
        buffer.writeInteger(Self.mask)
        for (offset, byte) in payload.enumerated() {
            buffer.writeInteger(byte ^ MessageTemplate.maskByte(Self.mask, phase: offset))
        }
        return buffer
    }
}

/// One committed record as the consumer sees it.
///
/// `payload` points into the ring's own arena, so it is valid only inside the `drain` callback:
/// once the callback returns `true` the consumer zeroes those bytes and hands them back to producers.
/// Copy what must outlive the callback (librdkafka's `RD_KAFKA_MSG_F_COPY` does exactly that).
public struct RingRecord {
    /// The bytes the producer's `fill` wrote (bytes it left unwritten read as zero, never as stale data).
    public let payload: UnsafeRawBufferPointer
    /// Caller-defined value carried through unchanged (e.g. a per-connection table index for delivery reports).
    public let opaque: UInt64
    /// Caller-defined small value carried through unchanged.
    public let tag: UInt32

    @inlinable
    public init(payload: UnsafeRawBufferPointer, opaque: UInt64, tag: UInt32) {
        self.payload = payload
        self.opaque = opaque
        self.tag = tag
    }
}

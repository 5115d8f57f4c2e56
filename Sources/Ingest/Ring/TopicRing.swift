import Atomics

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A bounded, lock-free, multi-producer / single-consumer ring of variable-size records for one topic.
///
/// Event-loop threads `push`; the one producer thread `drain`s into librdkafka. Records live in the ring's
/// own byte arena, so neither side allocates per record.
///
/// Positions (`head`, `tail`) are byte counters that only grow; the arena offset is `position & mask`.
/// At 64 bits they cannot wrap in practice, so there is no ABA on the tail compare-exchange and
/// `tail - head` is always the reserved byte count.
///
/// Invariant that keeps forged headers out: every arena byte that is not inside a reserved record holds
/// zero. It holds at start (the arena is zeroed) and the consumer restores it by zeroing each consumed
/// record *before* it release-stores the new head. A producer only writes into space it claimed after
/// acquiring a head at or past that space, so the zeroing happens-before the producer's writes, and the
/// commit word of a claimed-but-uncommitted record reads zero until its producer's release store. Payload
/// bytes from an earlier lap (which a client controls) therefore can never be read as a committed header.
/// A side effect: payload bytes a producer leaves unwritten read as zero, never as another client's data.
public final class TopicRing: @unchecked Sendable {
    // @unchecked Sendable: all shared state is either immutable after init or reached only through
    // atomics; the arena bytes are handed over by the release/acquire pairs argued below.

    /// Arena size in bytes: a power of two ≥ 4096.
    public let capacityBytes: Int

    /// Largest payload one record can carry.
    ///
    /// A record may take at most half the arena: then whatever the tail's offset, an empty ring can take
    /// it either before the end or, after padding to the end, from offset 0. A larger record could wait
    /// forever on an empty ring whose tail sits mid-arena.
    public var maxPayloadBytes: Int {
        Self.maxPayloadBytes(forCapacity: self.capacityBytes)
    }

    /// `maxPayloadBytes` of a ring of `capacity` bytes, for checking configuration before any ring exists.
    public static func maxPayloadBytes(forCapacity capacity: Int) -> Int {
        min(capacity / 2 - RingHeader.size, RingHeader.maxEncodablePayload)
    }

    private let mask: Int
    private let arena: UnsafeMutableRawPointer
    /// Two 128-byte lines: the producers' (tail, cached head) and the consumer's (head).
    /// 128 bytes covers both 64-byte lines with an adjacent-line prefetcher and 128-byte lines.
    private let control: UnsafeMutableRawPointer
    private static let lineBytes = 128

    /// Next free position. Producers claim `[tail, tail + n)` with a compare-exchange.
    private let tail: UnsafeAtomic<Int>
    /// A recent value of `head`, shared by producers on their own line so the fast path does not pull the
    /// consumer's line. May lag `head` (even go backwards), which only makes the space check conservative.
    private let cachedHead: UnsafeAtomic<Int>
    /// Position of the first unconsumed record. Written only by the consumer.
    private let head: UnsafeAtomic<Int>

    /// The consumer publishes its head at least every this many bytes within one drain, so a long
    /// batch frees space for producers as it goes instead of only at the end.
    private let publishBytes: Int

    /// capacityBytes: a power of two ≥ 4096.
    public init(capacityBytes: Int) {
        precondition(
            capacityBytes >= 4096 && capacityBytes & (capacityBytes - 1) == 0,
            "TopicRing capacity must be a power of two ≥ 4096, got \(capacityBytes)"
        )
        self.capacityBytes = capacityBytes
        self.mask = capacityBytes - 1
        self.publishBytes = capacityBytes / 4

        // Bound to the commit word's atomic storage type so `UnsafeAtomic` may address any 8-byte slot;
        // opaque values and payloads are accessed through raw pointers, which may alias it.
        let words = capacityBytes / RingHeader.alignment
        arena = UnsafeMutableRawPointer.allocate(byteCount: capacityBytes, alignment: Self.lineBytes)
        arena.bindMemory(to: UInt64.AtomicRepresentation.self, capacity: words)
            .initialize(repeating: UInt64.AtomicRepresentation(0), count: words)

        let stride = MemoryLayout<Int.AtomicRepresentation>.stride
        let perLine = Self.lineBytes / stride
        control = UnsafeMutableRawPointer.allocate(byteCount: 2 * Self.lineBytes, alignment: Self.lineBytes)
        let slots = control.bindMemory(to: Int.AtomicRepresentation.self, capacity: 2 * perLine)
        slots.initialize(repeating: Int.AtomicRepresentation(0), count: 2 * perLine)
        tail = UnsafeAtomic(at: slots)
        cachedHead = UnsafeAtomic(at: slots + 1)
        head = UnsafeAtomic(at: slots + perLine)
    }

    deinit {
        let stride = MemoryLayout<Int.AtomicRepresentation>.stride
        control.assumingMemoryBound(to: Int.AtomicRepresentation.self)
            .deinitialize(count: 2 * Self.lineBytes / stride)
        control.deallocate()
        arena.assumingMemoryBound(to: UInt64.AtomicRepresentation.self)
            .deinitialize(count: capacityBytes / RingHeader.alignment)
        arena.deallocate()
    }

    /// The commit word of the record at arena `offset` (8-byte aligned, inside the arena).
    @inline(__always)
    private func commitWord(at offset: Int) -> UnsafeAtomic<UInt64> {
        UnsafeAtomic(at: (arena + offset).assumingMemoryBound(to: UInt64.AtomicRepresentation.self))
    }

    /// Any thread. Reserves room for a record of `payloadCount` bytes, lets `fill` write exactly that many
    /// bytes, then commits it. Lock-free; no allocation; `fill` is non-escaping and must not block.
    ///
    /// `.full` = no room now (the caller applies backpressure and retries later); `.tooLarge` = can never fit.
    /// `fill` is called only for `.pushed`. Until it returns, the consumer stops at this record, so a
    /// slow `fill` holds back every record claimed after it: keep it to a copy.
    public func push(
        payloadCount: Int,
        opaque: UInt64,
        tag: UInt32,
        fill: (UnsafeMutableRawBufferPointer) -> Void
    ) -> RingPushResult {
        precondition(payloadCount >= 0, "negative payloadCount")
        guard payloadCount <= maxPayloadBytes else { return .tooLarge }
        let recordBytes = RingHeader.recordBytes(payloadCount: payloadCount)

        // Claim [start, end): an optional padding record to the arena's end, then the record.
        // The tail is only a ticket between producers (no data is handed from one producer to another
        // through it), so relaxed is enough for both its load and the compare-exchange.
        var start = tail.load(ordering: .relaxed)
        var paddingBytes: Int
        var end: Int
        while true {
            let toEnd = capacityBytes - (start & mask)
            paddingBytes = recordBytes <= toEnd ? 0 : toEnd
            end = start + paddingBytes + recordBytes
            // Acquire (on either load) makes the consumer's zeroing of everything below the head it read
            // happen-before our writes into [start, end), which lie below that head in the previous lap.
            // Through `cachedHead` the chain is consumer → (release head / acquire) → refreshing producer →
            // (release cache / acquire) → us; happens-before is transitive.
            let cached = cachedHead.load(ordering: .acquiring)
            if end - cached > capacityBytes {
                let fresh = head.load(ordering: .acquiring)
                // Skip the store when nothing changed: spinning producers on a full ring stay read-only here.
                if fresh != cached { cachedHead.store(fresh, ordering: .releasing) }
                // The tail only grows, so a retry could only need more room: report full now.
                if end - fresh > capacityBytes { return .full }
            }
            let (claimed, current) = tail.weakCompareExchange(
                expected: start,
                desired: end,
                ordering: .relaxed
            )
            if claimed { break }
            start = current
        }

        var offset = start & mask
        if paddingBytes > 0 {
            // Release so the consumer's acquire load that sees it orders its later zeroing of this word
            // after our store (otherwise that plain write would race with this atomic one).
            commitWord(at: offset).store(RingHeader.padding, ordering: .releasing)
            offset = 0
        }
        arena.storeBytes(of: opaque, toByteOffset: offset + RingHeader.opaqueOffset, as: UInt64.self)
        fill(UnsafeMutableRawBufferPointer(start: arena + offset + RingHeader.size, count: payloadCount))
        // Release publishes the opaque and payload writes above to the consumer's acquire load.
        commitWord(at: offset).store(
            RingHeader.committed(payloadCount: payloadCount, tag: tag),
            ordering: .releasing
        )
        return .pushed
    }

    /// Consumer thread only. Calls `body` for committed records in order; `body` returns true to consume the
    /// record, false to stop and leave that record (and all after it) in the ring, to be offered again next
    /// time. Returns the number consumed. Space of consumed records becomes free for producers.
    ///
    /// Stops at the first reserved-but-uncommitted record, so records come out in claim order and one
    /// producer's records in its own order. `body` may push to this ring but must not drain it.
    public func drain(maxRecords: Int, _ body: (RingRecord) -> Bool) -> Int {
        // Relaxed: only this thread writes the head.
        var position = head.load(ordering: .relaxed)
        var published = position
        var consumed = 0
        while consumed < maxRecords {
            let offset = position & mask
            // Acquire pairs with the producer's release commit: opaque and payload are visible below.
            // A zero word is a record still being filled (or free space): stop, keep claim order.
            let word = commitWord(at: offset).load(ordering: .acquiring)
            guard RingHeader.isCommitted(word) else { break }

            if RingHeader.isPadding(word) {
                // Only the padding's commit word was written; the rest up to the end is still zero.
                arena.storeBytes(of: 0 as UInt64, toByteOffset: offset, as: UInt64.self)
                position += capacityBytes - offset
                continue
            }

            let payloadCount = RingHeader.payloadCount(word)
            let record = RingRecord(
                payload: UnsafeRawBufferPointer(start: arena + offset + RingHeader.size, count: payloadCount),
                opaque: arena.load(fromByteOffset: offset + RingHeader.opaqueOffset, as: UInt64.self),
                tag: RingHeader.tag(word)
            )
            guard body(record) else { break }

            // Restore the all-zero invariant before the space is released (see the type's comment).
            let recordBytes = RingHeader.recordBytes(payloadCount: payloadCount)
            memset(arena + offset, 0, recordBytes)
            position += recordBytes
            consumed += 1

            if position - published >= publishBytes {
                // Release: the zeroing above happens-before any producer that acquires this head.
                head.store(position, ordering: .releasing)
                published = position
            }
        }
        if position != published {
            head.store(position, ordering: .releasing)
        }
        return consumed
    }

    /// Consumer side: true if no committed-or-reserved record is waiting (used for drain/shutdown and
    /// idle reclaim). Exact on the consumer thread with respect to its own drains; from other threads a
    /// snapshot that may already be out of date.
    public var isEmpty: Bool {
        // Acquire on the head, then the tail: any tail we read is at least the tail the consumer had
        // seen when it stored that head, so head ≤ tail holds for the pair.
        let consumerPosition = head.load(ordering: .acquiring)
        return tail.load(ordering: .relaxed) == consumerPosition
    }

    /// Bytes currently reserved (committed or being filled, padding included), for metrics.
    /// Approximate from any thread: the two positions are read one after the other.
    public var usedBytes: Int {
        let consumerPosition = head.load(ordering: .acquiring)
        let producerPosition = tail.load(ordering: .relaxed)
        // The head may move on between the loads, so the difference can exceed the capacity; clamp.
        return min(max(producerPosition - consumerPosition, 0), capacityBytes)
    }
}

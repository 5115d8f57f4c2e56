import Synchronization
import TestSupport
import Testing

@testable import Ingest

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

@Suite("TopicRing", .serialized)
struct TopicRingTests {
    // MARK: single thread

    @Test func drainsInPushOrderWithContent() {
        let ring = TopicRing(capacityBytes: 4096)
        var expected: [Sent] = []
        for index in 0..<20 {
            let sent = Sent(
                payload: pattern(count: index * 7, seed: UInt64(index)),
                opaque: UInt64(index),
                tag: UInt32(100 + index)
            )
            #expect(push(sent, into: ring) == .pushed)
            expected.append(sent)
        }
        #expect(!ring.isEmpty)
        let received = drainAll(ring)
        #expect(received == expected)
        #expect(ring.isEmpty)
        #expect(ring.usedBytes == 0)
    }

    @Test func opaqueAndTagRoundTrip() {
        let ring = TopicRing(capacityBytes: 4096)
        let values: [(UInt64, UInt32)] = [
            (0, 0), (.max, .max), (1 << 63, 1 << 31), (0xDEAD_BEEF_CAFE_F00D, 0x8000_0001), (42, 0x7FFF_FFFF),
        ]
        for (opaque, tag) in values {
            #expect(push(Sent(payload: [1, 2, 3], opaque: opaque, tag: tag), into: ring) == .pushed)
        }
        let received = drainAll(ring)
        #expect(received.map(\.opaque) == values.map(\.0))
        #expect(received.map(\.tag) == values.map(\.1))
        #expect(received.allSatisfy { $0.payload == [1, 2, 3] })
    }

    @Test func fullUntilDrainedThenAcceptsAgain() {
        let ring = TopicRing(capacityBytes: 4096)
        var pushed: [Sent] = []
        var result = RingPushResult.pushed
        while result == .pushed {
            let sent = Sent(
                payload: pattern(count: 100, seed: UInt64(pushed.count)),
                opaque: UInt64(pushed.count),
                tag: 7
            )
            var filled = false
            result = ring.push(payloadCount: 100, opaque: sent.opaque, tag: sent.tag) { buffer in
                filled = true
                buffer.copyBytes(from: sent.payload)
            }
            #expect(filled == (result == .pushed))
            if result == .pushed { pushed.append(sent) }
        }
        #expect(result == .full)
        // 100-byte payload + 16-byte header = 116 → 120 bytes a record; 34 of them take 4080 of 4096.
        #expect(pushed.count == 34)
        #expect(ring.usedBytes == 34 * 120)
        #expect(push(Sent(payload: [], opaque: 0, tag: 0), into: ring) == .pushed)  // a 16-byte record still fits
        pushed.append(Sent(payload: [], opaque: 0, tag: 0))
        #expect(ring.usedBytes == 4096)
        #expect(push(Sent(payload: [], opaque: 0, tag: 0), into: ring) == .full)

        // Freeing one record makes room for exactly one more of the same size.
        #expect(ring.drain(maxRecords: 1) { $0.payload.elementsEqual(pushed[0].payload) } == 1)
        #expect(push(pushed[1], into: ring) == .pushed)
        #expect(push(pushed[1], into: ring) == .full)

        let rest = drainAll(ring)
        #expect(rest == Array(pushed.dropFirst()) + [pushed[1]])
        #expect(ring.isEmpty)
        #expect(push(pushed[2], into: ring) == .pushed)
        #expect(drainAll(ring) == [pushed[2]])
    }

    @Test func tooLargeIsRejectedWithoutCallingFill() {
        let ring = TopicRing(capacityBytes: 4096)
        #expect(ring.capacityBytes == 4096)
        #expect(ring.maxPayloadBytes == 2048 - 16)
        var called = false
        #expect(
            ring.push(payloadCount: ring.maxPayloadBytes + 1, opaque: 0, tag: 0) { _ in called = true } == .tooLarge
        )
        #expect(ring.push(payloadCount: 1 << 40, opaque: 0, tag: 0) { _ in called = true } == .tooLarge)
        #expect(!called)
        #expect(ring.isEmpty)
        let biggest = Sent(payload: pattern(count: ring.maxPayloadBytes, seed: 9), opaque: 1, tag: 2)
        #expect(push(biggest, into: ring) == .pushed)
        #expect(drainAll(ring) == [biggest])

        let large = TopicRing(capacityBytes: 1 << 16)
        #expect(large.maxPayloadBytes == (1 << 15) - 16)
    }

    @Test func wrapsManyTimesWithEverySize() {
        let ring = TopicRing(capacityBytes: 4096)
        var random = SeededGenerator(seed: 1)
        var sizes = Array(1...ring.maxPayloadBytes)
        sizes += sizes.reversed()
        sizes += (0..<4000).map { _ in Int(random.next() % UInt64(ring.maxPayloadBytes + 1)) }
        var queue: [Sent] = []
        var received: [Sent] = []
        var bytesPushed = 0
        var fulls = 0
        for (index, size) in sizes.enumerated() {
            let sent = Sent(
                payload: pattern(count: size, seed: UInt64(index)),
                opaque: UInt64(index),
                tag: UInt32(size)
            )
            while push(sent, into: ring) == .full {
                fulls += 1
                // Consume a random prefix (at least one record), refusing the one after it.
                let take = 1 + Int(random.next() % 4)
                var offered = 0
                let consumed = ring.drain(maxRecords: .max) { record in
                    offered += 1
                    guard offered <= take else { return false }
                    received.append(Sent(record))
                    return true
                }
                #expect(consumed == min(take, queue.count - (received.count - consumed)))
            }
            queue.append(sent)
            bytesPushed += RingHeader.recordBytes(payloadCount: size)
        }
        received += drainAll(ring)
        #expect(received == queue)
        #expect(ring.isEmpty)
        #expect(bytesPushed / ring.capacityBytes > 1000)  // laps
        #expect(fulls > 1000)
    }

    @Test func exactFitAtEndNeedsNoPadding() {
        let ring = TopicRing(capacityBytes: 4096)
        let half = Sent(payload: pattern(count: ring.maxPayloadBytes, seed: 3), opaque: 3, tag: 3)  // 2048-byte record
        #expect(push(half, into: ring) == .pushed)
        #expect(drainAll(ring) == [half])
        // Tail at offset 2048: a 2048-byte record ends exactly at the arena's end.
        #expect(push(half, into: ring) == .pushed)
        #expect(ring.usedBytes == 2048)
        let small = Sent(payload: pattern(count: 8, seed: 4), opaque: 4, tag: 4)  // 24-byte record, from offset 0
        #expect(push(small, into: ring) == .pushed)
        #expect(ring.usedBytes == 2048 + 24)
        #expect(drainAll(ring) == [half, small])
        #expect(ring.usedBytes == 0)
    }

    @Test func recordThatDoesNotFitBeforeTheEndWrapsViaPadding() {
        let ring = TopicRing(capacityBytes: 4096)
        let small = Sent(payload: pattern(count: 8, seed: 5), opaque: 5, tag: 5)  // 24 bytes
        let half = Sent(payload: pattern(count: ring.maxPayloadBytes, seed: 6), opaque: 6, tag: 6)  // 2048 bytes
        #expect(push(small, into: ring) == .pushed)
        #expect(push(half, into: ring) == .pushed)  // 24..<2072
        #expect(drainAll(ring) == [small, half])
        // From 2072 only 2024 bytes remain before the end: 2024 padding + 2048 record.
        #expect(push(half, into: ring) == .pushed)
        #expect(ring.usedBytes == 2024 + 2048)
        // The tail is now at offset 2048; a 24-byte record fills the last 24 free bytes, nothing more fits.
        #expect(push(small, into: ring) == .pushed)
        #expect(ring.usedBytes == 4096)
        #expect(push(Sent(payload: [], opaque: 0, tag: 0), into: ring) == .full)
        #expect(drainAll(ring) == [half, small])
        #expect(ring.isEmpty)
    }

    @Test func emptyRingAcceptsTheLargestRecordAtEveryTailOffset() {
        // Tail offsets a ring can reach: 0 and 16..<capacity in steps of 8 (no record is shorter than 16).
        for target in [0] + Array(stride(from: 16, to: 4096, by: 8)) {
            let ring = TopicRing(capacityBytes: 4096)
            var steps: [Int]
            switch target {
            case 0: steps = []
            case ...2048: steps = [target]
            case 2064...: steps = [2048, target - 2048]
            default: steps = [2032, target - 2032]
            }
            for recordBytes in steps {
                #expect(ring.push(payloadCount: recordBytes - 16, opaque: 0, tag: 0) { _ in } == .pushed)
                #expect(ring.drain(maxRecords: .max) { _ in true } == 1)
            }
            #expect(ring.isEmpty)
            let biggest = Sent(
                payload: pattern(count: ring.maxPayloadBytes, seed: UInt64(target)),
                opaque: UInt64(target),
                tag: 1
            )
            #expect(push(biggest, into: ring) == .pushed, "tail offset \(target)")
            let padding = 4096 - target < 2048 ? 4096 - target : 0
            #expect(ring.usedBytes == padding + 2048, "tail offset \(target)")
            #expect(drainAll(ring) == [biggest])
        }
    }

    @Test func refusedRecordIsOfferedAgainIntact() {
        let ring = TopicRing(capacityBytes: 4096)
        let records = (0..<3).map {
            Sent(payload: pattern(count: 50 + $0, seed: UInt64($0)), opaque: UInt64(10 + $0), tag: UInt32(20 + $0))
        }
        for record in records { #expect(push(record, into: ring) == .pushed) }
        let usedBefore = ring.usedBytes

        var offered: [Sent] = []
        #expect(
            ring.drain(maxRecords: .max) { record in
                offered.append(Sent(record))
                return offered.count < 2  // take the first, refuse the second
            } == 1
        )
        #expect(offered == [records[0], records[1]])
        #expect(ring.usedBytes == usedBefore - RingHeader.recordBytes(payloadCount: 50))

        // Refusing again changes nothing.
        var again: Sent?
        #expect(
            ring.drain(maxRecords: .max) {
                again = Sent($0)
                return false
            } == 0
        )
        #expect(again == records[1])

        // maxRecords stops without consuming more.
        #expect(ring.drain(maxRecords: 1) { _ in true } == 1)
        #expect(
            ring.drain(maxRecords: 0) { _ in
                Issue.record("offered with maxRecords 0")
                return true
            } == 0
        )
        #expect(drainAll(ring) == [records[2]])
        #expect(ring.isEmpty)
    }

    @Test func reservedRecordIsNotOfferedUntilCommitted() {
        let ring = TopicRing(capacityBytes: 4096)
        let first = Sent(payload: [1], opaque: 1, tag: 1)
        let third = Sent(payload: [3], opaque: 3, tag: 3)
        #expect(push(first, into: ring) == .pushed)
        var duringFill: [Sent] = []
        let result = ring.push(payloadCount: 1, opaque: 2, tag: 2) { buffer in
            buffer[0] = 2
            // Reserved, not committed: the consumer takes `first`, then stops at this record even though
            // a later one commits in the meantime.
            #expect(push(third, into: ring) == .pushed)
            _ = ring.drain(maxRecords: .max) {
                duringFill.append(Sent($0))
                return true
            }
            #expect(!ring.isEmpty)
        }
        #expect(result == .pushed)
        #expect(duringFill == [first])
        #expect(drainAll(ring) == [Sent(payload: [2], opaque: 2, tag: 2), third])
    }

    @Test func payloadBytesForgedAsHeadersAreNeverTakenForCommittedRecords() {
        let ring = TopicRing(capacityBytes: 4096)
        // Words a client could put in a payload, including exact copies of what the ring itself writes.
        let forgeries: [UInt64] = [
            RingHeader.committed(payloadCount: 8, tag: 0xBAD),
            RingHeader.committed(payloadCount: 0, tag: 0),
            RingHeader.padding,
            .max,
        ]
        var random = SeededGenerator(seed: 2)
        // Model of the arena: which 8-byte words last held forged payload, to prove the test lands headers there.
        var forgedWord = [Bool](repeating: false, count: 4096 / 8)
        var tailOffset = 0
        var headersOnForgedBytes = 0
        for index in 0..<20_000 {
            let count = 8 * Int(random.next() % 64) + (index % 3 == 0 ? 4 : 0)
            let forgery = forgeries[index % forgeries.count]
            let recordBytes = RingHeader.recordBytes(payloadCount: count)
            if recordBytes > 4096 - tailOffset {
                forgedWord[tailOffset / 8] = false  // the padding's commit word
                tailOffset = 0
            }
            if forgedWord[tailOffset / 8] { headersOnForgedBytes += 1 }

            var offeredWhileReserved = 0
            let result = ring.push(payloadCount: count, opaque: UInt64(index), tag: 9) { buffer in
                for wordStart in stride(from: 0, to: count - 7, by: 8) {
                    buffer.storeBytes(of: forgery, toByteOffset: wordStart, as: UInt64.self)
                }
                // The ring holds only this reserved record; whatever stale bytes lie around, nothing is committed.
                offeredWhileReserved += ring.drain(maxRecords: .max) { _ in true }
                #expect(ring.drain(maxRecords: .max) { _ in true } == 0)
            }
            #expect(result == .pushed)
            #expect(offeredWhileReserved == 0)

            var received: [Sent] = []
            #expect(
                ring.drain(maxRecords: .max) {
                    received.append(Sent($0))
                    return true
                } == 1
            )
            #expect(received.first?.opaque == UInt64(index))
            #expect(received.first?.payload.count == count)
            #expect(ring.isEmpty)

            for word in 0..<(recordBytes / 8) {
                forgedWord[tailOffset / 8 + word] = word >= 2 && (word - 2) * 8 + 8 <= count
            }
            tailOffset = (tailOffset + recordBytes) % 4096
        }
        #expect(headersOnForgedBytes > 1000)
    }

    @Test func unwrittenPayloadBytesReadAsZeroNotStaleData() {
        let ring = TopicRing(capacityBytes: 4096)
        for _ in 0..<4 {  // two laps of 0xFF payloads
            #expect(
                ring.push(payloadCount: ring.maxPayloadBytes, opaque: 0, tag: 0) { buffer in
                    for index in buffer.indices { buffer[index] = 0xFF }
                } == .pushed
            )
            #expect(ring.drain(maxRecords: .max) { _ in true } == 1)
        }
        for count in [1, 13, 100, ring.maxPayloadBytes] {
            #expect(ring.push(payloadCount: count, opaque: 0, tag: 0) { _ in } == .pushed)
            #expect(ring.drain(maxRecords: .max) { $0.payload.allSatisfy { $0 == 0 } } == 1)
        }
    }

    // MARK: threads

    @Test(.timeLimit(.minutes(2)))
    func concurrentProducersAndConsumerLoseAndDuplicateNothing() throws {
        let producers = 4
        let perProducer = 200_000
        let ring = TopicRing(capacityBytes: 1 << 16)
        let stop = StopFlag()
        let started = ContinuousClock.now

        let stats = (0..<producers).map { _ in ProducerStats() }
        var threads: [pthread_t] = []
        for producer in 0..<producers {
            let stats = stats[producer]
            threads.append(
                startThread {
                    var waits = 0
                    for sequence in 0..<perProducer {
                        let count = stressSize(producer: producer, sequence: sequence, max: ring.maxPayloadBytes)
                        while true {
                            let result = ring.push(
                                payloadCount: count,
                                opaque: UInt64(producer) << 56 | UInt64(sequence),
                                tag: stressTag(count: count)
                            ) { buffer in
                                writeStressPayload(buffer, producer: producer, sequence: sequence)
                            }
                            if result == .pushed { break }
                            precondition(result == .full)
                            stats.fulls += 1
                            if stop.isSet { return }
                            backOff(attempt: &waits)
                        }
                        stats.pushed += 1
                        waits = 0
                    }
                }
            )
        }

        let check = ConsumerCheck(producers: producers, maxPayloadBytes: ring.maxPayloadBytes)
        let total = producers * perProducer
        threads.append(
            startThread {
                var lastProgress = ContinuousClock.now
                while check.received < total {
                    let consumed = ring.drain(maxRecords: 512) { record in
                        check.verify(record)
                        return true
                    }
                    if consumed > 0 {
                        check.drainsWithRecords += 1
                        lastProgress = .now
                    } else {
                        if ContinuousClock.now - lastProgress > .seconds(60) {
                            check.failures.append("no progress for 60 s at \(check.received) records")
                            stop.set()
                            return
                        }
                        sched_yield()
                    }
                }
            }
        )
        for thread in threads { pthread_join(thread, nil) }
        let elapsed = ContinuousClock.now - started

        let fulls = stats.reduce(0) { $0 + $1.fulls }
        print(
            "TopicRing stress: \(total) records, \(check.bytes) payload bytes, \(fulls) × .full,",
            "\(check.drainsWithRecords) drains, \(elapsed)"
        )
        #expect(check.failures.isEmpty, "\(check.failures.prefix(10))")
        #expect(stats.map(\.pushed) == Array(repeating: perProducer, count: producers))
        #expect(check.received == total)
        #expect(check.nextSequence == Array(repeating: perProducer, count: producers))
        #expect(ring.isEmpty)
        #expect(ring.usedBytes == 0)
        // A 64 KiB ring carried far more than its size: it wrapped thousands of times.
        #expect(check.bytes / ring.capacityBytes > 100)
        // Four producers against one consumer on a small ring: backpressure must have kicked in.
        #expect(fulls > 0)
    }
}

// MARK: - helpers

/// A record as pushed or received, compared by value.
private struct Sent: Equatable {
    var payload: [UInt8]
    var opaque: UInt64
    var tag: UInt32

    init(payload: [UInt8], opaque: UInt64, tag: UInt32) {
        self.payload = payload
        self.opaque = opaque
        self.tag = tag
    }

    init(_ record: RingRecord) {
        self.init(payload: Array(record.payload), opaque: record.opaque, tag: record.tag)
    }
}

private func push(_ sent: Sent, into ring: TopicRing) -> RingPushResult {
    ring.push(payloadCount: sent.payload.count, opaque: sent.opaque, tag: sent.tag) { buffer in
        precondition(buffer.count == sent.payload.count)
        buffer.copyBytes(from: sent.payload)
    }
}

private func drainAll(_ ring: TopicRing) -> [Sent] {
    var received: [Sent] = []
    _ = ring.drain(maxRecords: .max) {
        received.append(Sent($0))
        return true
    }
    return received
}

/// `count` pseudo-random bytes, a word at a time (debug builds are slow per byte).
private func pattern(count: Int, seed: UInt64) -> [UInt8] {
    var random = SeededGenerator(seed: seed)
    var bytes = [UInt8](repeating: 0, count: count)
    bytes.withUnsafeMutableBytes { buffer in
        var offset = 0
        while offset < count {
            let word = random.next()
            let length = min(8, count - offset)
            withUnsafeBytes(of: word) { buffer[offset..<(offset + length)].copyBytes(from: $0.prefix(length)) }
            offset += length
        }
    }
    return bytes
}

// Stress payload: [producer: UInt32][sequence: UInt64][pattern bytes derived from both and the index].

private func stressSize(producer: Int, sequence: Int, max: Int) -> Int {
    var random = SeededGenerator(seed: UInt64(producer) << 32 | UInt64(sequence))
    let value = random.next()
    // Mostly chat-sized, now and then up to the ring's limit to force padding and long waits.
    return sequence % 1024 == 7 ? 12 + Int(value % UInt64(max - 11)) : 12 + Int(value % 200)
}

private func stressTag(count: Int) -> UInt32 { UInt32(count) ^ 0x5A5A_0000 }

private func stressByte(producer: Int, sequence: Int, index: Int) -> UInt8 {
    UInt8(truncatingIfNeeded: sequence &* 31 &+ producer &* 101 &+ index &* 7)
}

private func writeStressPayload(_ buffer: UnsafeMutableRawBufferPointer, producer: Int, sequence: Int) {
    buffer.storeBytes(of: UInt32(producer), toByteOffset: 0, as: UInt32.self)
    buffer.storeBytes(of: UInt64(sequence), toByteOffset: 4, as: UInt64.self)
    for index in 12..<buffer.count {
        buffer[index] = stressByte(producer: producer, sequence: sequence, index: index)
    }
}

/// What a blocked caller does on `.full` while it waits for space: yield a few times, then sleep briefly,
/// so spinning producers do not starve the consumer on a 2-core machine.
private func backOff(attempt: inout Int) {
    attempt += 1
    if attempt < 8 {
        sched_yield()
    } else {
        var pause = timespec(tv_sec: 0, tv_nsec: 20_000)
        nanosleep(&pause, nil)
    }
}

/// Per-producer counters, written by that producer's thread only and read after `pthread_join`.
private final class ProducerStats: @unchecked Sendable {
    var pushed = 0
    var fulls = 0
}

/// Consumer-side bookkeeping, touched by the consumer thread only and read after `pthread_join`.
private final class ConsumerCheck: @unchecked Sendable {
    var nextSequence: [Int]
    var received = 0
    var bytes = 0
    var drainsWithRecords = 0
    var failures: [String] = []

    let maxPayloadBytes: Int

    init(producers: Int, maxPayloadBytes: Int) {
        nextSequence = Array(repeating: 0, count: producers)
        self.maxPayloadBytes = maxPayloadBytes
    }

    func verify(_ record: RingRecord) {
        received += 1
        bytes += record.payload.count
        guard record.payload.count >= 12 else { return fail("short payload \(record.payload.count)") }
        let producer = Int(record.payload.loadUnaligned(fromByteOffset: 0, as: UInt32.self))
        let sequence = Int(record.payload.loadUnaligned(fromByteOffset: 4, as: UInt64.self))
        guard producer < nextSequence.count else { return fail("bad producer \(producer)") }
        if sequence != nextSequence[producer] {
            fail("producer \(producer): got sequence \(sequence), expected \(nextSequence[producer])")
        }
        nextSequence[producer] = sequence + 1
        if record.opaque != UInt64(producer) << 56 | UInt64(sequence) {
            fail("opaque mismatch at \(producer)/\(sequence)")
        }
        if record.tag != stressTag(count: record.payload.count) {
            fail("tag/length mismatch at \(producer)/\(sequence)")
        }
        if record.payload.count != stressSize(producer: producer, sequence: sequence, max: maxPayloadBytes) {
            fail("length mismatch at \(producer)/\(sequence)")
        }
        for index in 12..<record.payload.count
        where record.payload[index] != stressByte(producer: producer, sequence: sequence, index: index) {
            return fail("payload corrupt at \(producer)/\(sequence) byte \(index)")
        }
    }

    private func fail(_ message: String) {
        if failures.count < 100 { failures.append(message) }
    }
}

private final class StopFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    var isSet: Bool { flag.load(ordering: .relaxed) }
    func set() { flag.store(true, ordering: .relaxed) }
}

private final class ThreadBody {
    let run: @Sendable () -> Void
    init(_ run: @escaping @Sendable () -> Void) { self.run = run }
}

/// Starts a real OS thread (the ring is used from NIO event loops and a dedicated thread, not tasks).
private func startThread(_ body: @escaping @Sendable () -> Void) -> pthread_t {
    let context = Unmanaged.passRetained(ThreadBody(body)).toOpaque()
    #if canImport(Darwin)
    var thread: pthread_t?
    #else
    var thread = pthread_t()
    #endif
    let status = pthread_create(
        &thread,
        nil,
        { context in
            Unmanaged<ThreadBody>.fromOpaque(context!).takeRetainedValue().run()
            return nil
        },
        context
    )
    precondition(status == 0, "pthread_create failed: \(status)")
    #if canImport(Darwin)
    return thread!
    #else
    return thread
    #endif
}

import Benchmark
import Foundation
import Ingest
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The daemon's default ring size (`buffer.ring_bytes`).
private let ringCapacity = 1 << 20
/// Payload of every ring record: the canonical value of a ~100-byte message is about this long.
private let recordPayloadBytes = 100
/// Records one drain call takes at most, as the producer thread's `recordsPerTurn`.
private let drainBatch = 4096

/// `TopicRing` alone: the uncontended cost on one thread, then one consumer against 1, 2 and 4 producer
/// threads, each reported per record.
func registerRingBenchmarks() {
    registerSingleThreadRingBenchmark()
    for producers in [1, 2, 4] {
        registerContendedRingBenchmark(producers: producers)
    }
}

/// Push 1000 records, then drain them, on one thread: the ring's own instruction cost (claim, fill, commit,
/// then read, zero, release) with no cache line moving between cores.
private func registerSingleThreadRingBenchmark() {
    let ring = TopicRing(capacityBytes: ringCapacity)
    let source = RecordSource(byteCount: recordPayloadBytes)

    Benchmark(
        "TopicRing push+drain, same thread",
        configuration: singleThreadConfiguration(scalingFactor: .kilo)
    ) { benchmark in
        let bytes = source.bytes
        for index in benchmark.scaledIterations {
            let result = ring.push(payloadCount: bytes.count, opaque: UInt64(index), tag: 0) { destination in
                destination.copyMemory(from: bytes)
            }
            guard result == .pushed else {
                benchmark.error("push returned \(result) on a ring that is drained every iteration")
                return
            }
        }
        var opaqueSum: UInt64 = 0
        let drained = ring.drain(maxRecords: .max) { record in
            opaqueSum &+= record.opaque
            return true
        }
        guard drained == benchmark.scaledIterations.count else {
            benchmark.error("drained \(drained) records, pushed \(benchmark.scaledIterations.count)")
            return
        }
        blackHole(opaqueSum)
    }
}

/// One consumer (the benchmark's own thread) against `producers` producer threads, a million records per
/// iteration. The threads are started in setup and parked on a semaphore between iterations, so the measured
/// part is only pushing and draining (plus one wake-up per producer, negligible against a million records).
///
/// On a 2-core machine 2 producers + consumer, and even more 4 + consumer, are oversubscribed: threads that
/// find the ring full (producers) or empty (consumer) `sched_yield`, and the figure is the per-record cost of
/// the whole system under that contention, not of one core.
private func registerContendedRingBenchmark(producers: Int) {
    let load = RingLoad(producers: producers, recordsPerIteration: BenchmarkScalingFactor.mega.rawValue)

    Benchmark(
        "TopicRing \(producers) producer\(producers == 1 ? "" : "s") + consumer threads",
        configuration: .init(
            metrics: hotPathMetrics,
            warmupIterations: 1,
            scalingFactor: .mega,
            maxDuration: .seconds(3),
            maxIterations: 100,
            setup: { load.startThreads() },
            teardown: { load.stopThreads() }
        )
    ) { benchmark in
        let consumed = load.runIteration()
        guard consumed == benchmark.scaledIterations.count else {
            benchmark.error("consumed \(consumed) records, expected \(benchmark.scaledIterations.count)")
            return
        }
    }
}

/// The bytes every `fill` copies into the ring, allocated once so the copy is the only per-record work.
final class RecordSource: @unchecked Sendable {
    // @unchecked Sendable: written once in init, only read afterwards.
    let bytes: UnsafeRawBufferPointer

    init(byteCount: Int) {
        let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: byteCount, alignment: 16)
        for index in 0..<byteCount {
            storage[index] = UInt8(ascii: "a") &+ UInt8(index % 26)
        }
        bytes = UnsafeRawBufferPointer(storage)
    }

    deinit {
        bytes.deallocate()
    }
}

/// Producer threads that each push a fixed share of records into one ring whenever released, and the
/// consumer side that releases them and drains.
///
/// Coordination uses one POSIX semaphore per producer (futex-based, no allocation): a shared one could let a
/// fast producer take a second turn in the same iteration while another producer still sleeps.
final class RingLoad: @unchecked Sendable {
    // @unchecked Sendable: the ring is built for concurrent use; the semaphores are thread-safe by
    // construction; everything else is immutable after init or atomic.
    let ring = TopicRing(capacityBytes: ringCapacity)
    let producers: Int
    let recordsPerIteration: Int
    private let source = RecordSource(byteCount: recordPayloadBytes)
    private let go: [UnsafeMutablePointer<sem_t>]
    private let exited: UnsafeMutablePointer<sem_t>
    private let stopping = Atomic<Bool>(false)
    private let running = Atomic<Bool>(false)

    init(producers: Int, recordsPerIteration: Int) {
        precondition(recordsPerIteration % producers == 0, "records must split evenly between producers")
        self.producers = producers
        self.recordsPerIteration = recordsPerIteration
        go = (0..<producers).map { _ in Self.makeSemaphore() }
        exited = Self.makeSemaphore()
    }

    deinit {
        for semaphore in go + [exited] {
            sem_destroy(semaphore)
            semaphore.deallocate()
        }
    }

    private static func makeSemaphore() -> UnsafeMutablePointer<sem_t> {
        let semaphore = UnsafeMutablePointer<sem_t>.allocate(capacity: 1)
        sem_init(semaphore, 0, 0)
        return semaphore
    }

    /// Benchmark setup: starts the producer threads, which wait for the first iteration.
    func startThreads() {
        guard !running.exchange(true, ordering: .acquiringAndReleasing) else { return }
        stopping.store(false, ordering: .releasing)
        for index in 0..<producers {
            let thread = Thread { [self] in produce(index) }
            thread.name = "ring-producer-\(index)"
            thread.start()
        }
    }

    /// Benchmark teardown: lets every producer leave its loop and waits until all have.
    func stopThreads() {
        guard running.exchange(false, ordering: .acquiringAndReleasing) else { return }
        stopping.store(true, ordering: .releasing)
        for semaphore in go { sem_post(semaphore) }
        for _ in 0..<producers { Self.wait(exited) }
    }

    /// The measured part, on the benchmark's thread: releases every producer, then drains until all of this
    /// iteration's records have come out. Returns the number consumed.
    func runIteration() -> Int {
        for semaphore in go { sem_post(semaphore) }
        var consumed = 0
        var opaqueSum: UInt64 = 0
        while consumed < recordsPerIteration {
            let drained = ring.drain(maxRecords: drainBatch) { record in
                opaqueSum &+= record.opaque
                return true
            }
            if drained == 0 {
                sched_yield()  // let a producer that shares this core run
            }
            consumed += drained
        }
        blackHole(opaqueSum)
        return consumed
    }

    private func produce(_ index: Int) {
        let share = recordsPerIteration / producers
        let bytes = source.bytes
        while true {
            Self.wait(go[index])
            if stopping.load(ordering: .acquiring) { break }
            var pushed = 0
            while pushed < share {
                let opaque = UInt64(index) << 32 | UInt64(pushed)
                switch ring.push(
                    payloadCount: bytes.count,
                    opaque: opaque,
                    tag: 0,
                    fill: { $0.copyMemory(from: bytes) }
                ) {
                case .pushed:
                    pushed += 1
                case .full:
                    sched_yield()  // the consumer needs the core to make room
                case .tooLarge:
                    fatalError("a \(bytes.count)-byte record cannot be too large for a \(ringCapacity)-byte ring")
                }
            }
        }
        sem_post(exited)
    }

    private static func wait(_ semaphore: UnsafeMutablePointer<sem_t>) {
        while sem_wait(semaphore) != 0 {
            precondition(errno == EINTR, "sem_wait failed: errno \(errno)")
        }
    }
}

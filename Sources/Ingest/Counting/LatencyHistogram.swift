import Atomics

/// A latency histogram with fixed buckets that its one writer thread updates without a lock.
///
/// swift-prometheus's `Histogram` takes a mutex per observation; at a million deliveries a second
/// that is a measurable share of the producer thread. Here each instance has exactly one writer (the
/// producer thread, or one event loop), so recording is a bucket search and two relaxed load/store
/// pairs — plain moves on x86 — and a scrape on another thread reads the atomics.
public final class LatencyHistogram: Sendable {
    /// Upper bounds in seconds, shared by every latency histogram so they can be summed and compared.
    public static let boundsSeconds: [Double] = [
        0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300,
    ]

    private let boundsNanoseconds: [UInt64]
    /// Observations per bucket, not cumulative; the last one counts values above every bound.
    private let buckets: [ManagedAtomic<UInt64>]
    private let sumNanoseconds = ManagedAtomic<UInt64>(0)

    public init() {
        self.boundsNanoseconds = Self.boundsSeconds.map { UInt64(($0 * 1e9).rounded()) }
        self.buckets = (0...Self.boundsSeconds.count).map { _ in ManagedAtomic<UInt64>(0) }
    }

    /// Records one observation. Only the instance's single writer thread may call this.
    @inline(__always)
    public func record(nanoseconds: UInt64) {
        var index = 0
        let bounds = self.boundsNanoseconds
        while index < bounds.count && nanoseconds > bounds[index] { index += 1 }
        let bucket = self.buckets[index]
        bucket.store(bucket.load(ordering: .relaxed) &+ 1, ordering: .relaxed)
        self.sumNanoseconds.store(self.sumNanoseconds.load(ordering: .relaxed) &+ nanoseconds, ordering: .relaxed)
    }

    /// What a scrape reads; several histograms (one per event loop) add up with `+`.
    public struct Snapshot: Sendable, Equatable {
        /// Per bucket, not cumulative; one more entry than `boundsSeconds` (the +Inf bucket).
        public var counts: [UInt64]
        public var sumNanoseconds: UInt64

        public static var zero: Snapshot { Snapshot(counts: Array(repeating: 0, count: LatencyHistogram.boundsSeconds.count + 1), sumNanoseconds: 0) }

        public var count: UInt64 { self.counts.reduce(0, &+) }

        public static func + (lhs: Snapshot, rhs: Snapshot) -> Snapshot {
            Snapshot(counts: zip(lhs.counts, rhs.counts).map { $0 &+ $1 }, sumNanoseconds: lhs.sumNanoseconds &+ rhs.sumNanoseconds)
        }
    }

    public func snapshot() -> Snapshot {
        Snapshot(counts: self.buckets.map { $0.load(ordering: .relaxed) }, sumNanoseconds: self.sumNanoseconds.load(ordering: .relaxed))
    }
}

/// A latency histogram with fixed buckets that its one writer thread updates without a lock.
///
/// swift-prometheus's `Histogram` takes a mutex per observation; at a million deliveries a second
/// that is a measurable share of the producer thread. Here each instance has exactly one writer (the
/// producer thread, or one event loop), so recording is a short bucket search and two relaxed
/// load/store pairs in a `CounterBlock` — plain moves on x86 — and a scrape on another thread reads them.
public final class LatencyHistogram: Sendable {
    /// Upper bounds in seconds, shared by every latency histogram so they can be summed and compared.
    public static let boundsSeconds: [Double] = [
        0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120,
        300,
    ]
    private static let boundsNanoseconds: [Int] = boundsSeconds.map { Int(($0 * 1e9).rounded()) }

    /// Slots 0…bounds: observations per bucket, not cumulative (the last is above every bound);
    /// then the sum in nanoseconds.
    private let slots = CounterBlock(count: LatencyHistogram.boundsSeconds.count + 2)
    private var sumSlot: Int { Self.boundsSeconds.count + 1 }

    public init() {}

    /// Records one observation. Only the instance's single writer thread may call this.
    @inline(__always)
    public func record(nanoseconds: UInt64) {
        let value = Int(truncatingIfNeeded: nanoseconds)
        var index = 0
        Self.boundsNanoseconds.withUnsafeBufferPointer { bounds in
            while index < bounds.count && value > bounds[index] { index += 1 }
        }
        self.slots.bump(index)
        self.slots.bump(self.sumSlot, by: value)
    }

    /// What a scrape reads; several histograms (one per event loop) add up with `+`.
    public struct Snapshot: Sendable, Equatable {
        /// Per bucket, not cumulative; one more entry than `boundsSeconds` (the +Inf bucket).
        public var counts: [UInt64]
        public var sumNanoseconds: UInt64

        public static var zero: Snapshot {
            Snapshot(counts: Array(repeating: 0, count: LatencyHistogram.boundsSeconds.count + 1), sumNanoseconds: 0)
        }

        public var count: UInt64 { self.counts.reduce(0, &+) }

        public static func + (lhs: Snapshot, rhs: Snapshot) -> Snapshot {
            Snapshot(
                counts: zip(lhs.counts, rhs.counts).map { $0 &+ $1 },
                sumNanoseconds: lhs.sumNanoseconds &+ rhs.sumNanoseconds
            )
        }
    }

    public func snapshot() -> Snapshot {
        Snapshot(
            counts: (0...Self.boundsSeconds.count).map { UInt64(truncatingIfNeeded: self.slots.load($0)) },
            sumNanoseconds: UInt64(truncatingIfNeeded: self.slots.load(self.sumSlot))
        )
    }
}

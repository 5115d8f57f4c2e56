import Atomics
import Dispatch

#if canImport(Glibc)
import Glibc
#endif

/// Messages per interval over the run (`throughputSeries` in `--json`): a thread of its own reads a running
/// total every 100 ms — the atomics the event loops already add to per batch or per read, or a relaxed store
/// of the raw producer's count — so the send and receive paths do no extra work for it. Each entry is
/// [seconds since the start at the end of the interval, messages per second over the interval], the rate taken
/// from the sample's real time, so a late wake-up widens one interval instead of skewing its rate; the last
/// interval ends at the end of the measurement.
final class ThroughputSampler: @unchecked Sendable {
    static let intervalNanoseconds: UInt64 = 100_000_000

    private let start: UInt64
    private let total: @Sendable () -> Int
    private let done = DispatchSemaphore(value: 0)
    /// Written by the sampling thread only; read after `done` is signalled.
    private var times: [UInt64] = []
    private var counts: [Int] = []
    /// Read by the sampling thread between two sleeps; set once by `stop`.
    private let stopRequested = ManagedAtomic<Bool>(false)

    /// Samples `total()` at `start` + k × 100 ms (k ≥ 1) from now on; `start` may lie in the near future.
    init(start: UInt64, total: @escaping @Sendable () -> Int) {
        self.start = start
        self.total = total
        self.times.reserveCapacity(4096)
        self.counts.reserveCapacity(4096)
        self.times.append(start)
        self.counts.append(0)
        DispatchQueue(label: "load-generator.throughput").async { self.sample() }
    }

    private func sample() {
        var next = self.start + Self.intervalNanoseconds
        while !self.stopRequested.load(ordering: .relaxed) {
            Self.sleep(until: next)
            let now = MonotonicClock.now()
            self.times.append(now)
            self.counts.append(self.total())
            next += Self.intervalNanoseconds
            // Far behind (the machine was saturated): resume on the grid instead of sampling in a burst.
            while next <= now { next += Self.intervalNanoseconds }
        }
        self.done.signal()
    }

    /// Ends sampling with a last sample of `total` at `end` (the end of the measurement) and returns the series.
    func stop(end: UInt64, total: Int) -> [(seconds: Double, perSecond: Double)] {
        self.stopRequested.store(true, ordering: .relaxed)
        self.done.wait()
        // Samples taken after the end (the thread's last wake-up) are replaced by the final one.
        while let last = self.times.last, last >= end, self.times.count > 1 {
            self.times.removeLast()
            self.counts.removeLast()
        }
        // A last interval shorter than half of one shows mostly the noise of a short window (a burst of acks,
        // a dip); it joins the interval before, which then spans up to 150 ms.
        if self.times.count > 1, end - self.times.last! < Self.intervalNanoseconds / 2 {
            self.times.removeLast()
            self.counts.removeLast()
        }
        if end > self.times.last! {
            self.times.append(end)
            self.counts.append(total)
        }
        var series: [(seconds: Double, perSecond: Double)] = []
        series.reserveCapacity(self.times.count)
        for index in self.times.indices.dropFirst() {
            let seconds = MonotonicClock.seconds(from: self.times[index - 1], to: self.times[index])
            let count = self.counts[index] - self.counts[index - 1]
            series.append(
                (
                    MonotonicClock.seconds(from: self.start, to: self.times[index]),
                    seconds > 0 ? Double(count) / seconds : 0
                )
            )
        }
        return series
    }

    private static func sleep(until deadline: UInt64) {
        var time = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
        while clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &time, nil) == EINTR {}
    }
}

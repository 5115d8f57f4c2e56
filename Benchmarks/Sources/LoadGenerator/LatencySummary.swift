import Histogram

/// Percentiles of send→ack (or send→delivery report) latency in milliseconds, taken from an HdrHistogram
/// recorded in microseconds.
struct LatencySummary: Sendable {
    var p50: Double
    var p90: Double
    var p99: Double
    var p999: Double
    var max: Double
    var count: UInt64
    /// (percentile, ms) at `curvePercentiles`; 0 is the smallest value recorded, 100 the largest.
    var curve: [(percentile: Double, milliseconds: Double)]

    /// The percentile curve's points (`latencyCurve` in `--json`).
    static let curvePercentiles: [Double] = [0, 10, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.99, 100]

    /// One hour in microseconds; slower acks are clamped to it.
    static let highestTrackableMicroseconds: UInt64 = 3_600_000_000

    static func makeHistogram() -> Histogram<UInt64> {
        Histogram<UInt64>(
            lowestDiscernibleValue: 1,
            highestTrackableValue: Self.highestTrackableMicroseconds,
            numberOfSignificantValueDigits: .three
        )
    }

    @inline(__always)
    static func record(nanoseconds: UInt64, into histogram: inout Histogram<UInt64>) {
        histogram.record(Swift.min(nanoseconds / 1000, Self.highestTrackableMicroseconds))
    }

    init?(_ histogram: Histogram<UInt64>) {
        guard histogram.totalCount > 0 else { return nil }
        self.p50 = Double(histogram.valueAtPercentile(50)) / 1000
        self.p90 = Double(histogram.valueAtPercentile(90)) / 1000
        self.p99 = Double(histogram.valueAtPercentile(99)) / 1000
        self.p999 = Double(histogram.valueAtPercentile(99.9)) / 1000
        self.max = Double(histogram.max) / 1000
        self.count = histogram.totalCount
        self.curve = Self.curvePercentiles.map { percentile in
            let micros =
                switch percentile {
                case 0: histogram.min
                case 100: histogram.max
                default: histogram.valueAtPercentile(percentile)
                }
            return (percentile, Double(micros) / 1000)
        }
    }
}

import Ingest
import Testing

@testable import Monitoring

@Suite struct LatencyHistogramTests {
    @Test func observationsLandInTheFirstBucketWhoseBoundIsNotBelowThem() {
        let histogram = LatencyHistogram()
        histogram.record(nanoseconds: 50_000)  // 0.05 ms → le 0.0001
        histogram.record(nanoseconds: 100_000)  // exactly 0.1 ms → le 0.0001 (bounds are inclusive)
        histogram.record(nanoseconds: 3_000_000)  // 3 ms → le 0.005
        histogram.record(nanoseconds: 400_000_000_000)  // 400 s → +Inf only
        let snapshot = histogram.snapshot()
        let bounds = LatencyHistogram.boundsSeconds
        #expect(snapshot.counts[bounds.firstIndex(of: 0.0001)!] == 2)
        #expect(snapshot.counts[bounds.firstIndex(of: 0.005)!] == 1)
        #expect(snapshot.counts.last == 1)
        #expect(snapshot.count == 4)
        #expect(snapshot.sumNanoseconds == 50_000 + 100_000 + 3_000_000 + 400_000_000_000)
    }

    @Test func snapshotsOfSeveralHistogramsAddUp() {
        let first = LatencyHistogram()
        let second = LatencyHistogram()
        first.record(nanoseconds: 2_000_000)
        second.record(nanoseconds: 2_000_000)
        second.record(nanoseconds: 20_000_000)
        let total = first.snapshot() + second.snapshot()
        #expect(total.count == 3)
        #expect(total.sumNanoseconds == 24_000_000)
    }

    @Test func theTextFormatIsCumulativeAndEndsWithInfSumAndCount() {
        let histogram = LatencyHistogram()
        histogram.record(nanoseconds: 3_000_000)
        histogram.record(nanoseconds: 7_000_000)
        histogram.record(nanoseconds: 500_000_000_000)
        var output: [UInt8] = []
        HistogramExposition.write(
            name: "kcp_test_seconds",
            help: "A test.",
            snapshot: histogram.snapshot(),
            into: &output
        )
        let lines = String(decoding: output, as: UTF8.self).split(separator: "\n").map(String.init)
        #expect(lines[0] == "# HELP kcp_test_seconds A test.")
        #expect(lines[1] == "# TYPE kcp_test_seconds histogram")
        #expect(lines.contains("kcp_test_seconds_bucket{le=\"0.0025\"} 0"))
        #expect(lines.contains("kcp_test_seconds_bucket{le=\"0.005\"} 1"))
        #expect(lines.contains("kcp_test_seconds_bucket{le=\"0.01\"} 2"))
        #expect(lines.contains("kcp_test_seconds_bucket{le=\"300.0\"} 2"))
        #expect(lines.contains("kcp_test_seconds_bucket{le=\"+Inf\"} 3"))
        #expect(lines.contains("kcp_test_seconds_sum 500.01"))
        #expect(lines.last == "kcp_test_seconds_count 3")
    }
}

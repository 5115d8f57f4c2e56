import Ingest

/// Renders a `LatencyHistogram` in the Prometheus text format (cumulative `_bucket` series with `le`,
/// `_sum` and `_count`, in seconds).
enum HistogramExposition {
    static func write(name: String, help: String, snapshot: LatencyHistogram.Snapshot, into output: inout [UInt8]) {
        var text = "# HELP \(name) \(help)\n# TYPE \(name) histogram\n"
        var cumulative: UInt64 = 0
        for (index, bound) in LatencyHistogram.boundsSeconds.enumerated() {
            cumulative &+= snapshot.counts[index]
            text += "\(name)_bucket{le=\"\(bound)\"} \(cumulative)\n"
        }
        let count = snapshot.count
        text += "\(name)_bucket{le=\"+Inf\"} \(count)\n"
        text += "\(name)_sum \(Double(snapshot.sumNanoseconds) / 1e9)\n"
        text += "\(name)_count \(count)\n"
        output.append(contentsOf: text.utf8)
    }
}

import Prometheus

/// The series of one counter family with a closed label set, one per value, found by the value itself
/// (not by position), each fed from a running total like `ExportedCounter`.
struct LabeledCounters<Value: Hashable> {
    private var series: [Value: ExportedCounter]

    init(
        _ registry: PrometheusCollectorRegistry,
        named name: String,
        label: String,
        values: some Sequence<Value>,
        labelValue: (Value) -> String,
        help: String
    ) {
        self.series = Dictionary(
            uniqueKeysWithValues: values.map { value in
                (
                    value,
                    ExportedCounter(registry.counter(named: name, labels: [(label, labelValue(value))], help: help))
                )
            }
        )
    }

    /// Brings each value's series up to its running total; a value without a series (none: the label set
    /// is closed and built from `allCases`) is ignored rather than trapping a scrape.
    mutating func update(_ totals: [(Value, Int)]) {
        for (value, total) in totals {
            self.series[value]?.update(to: total)
        }
    }
}

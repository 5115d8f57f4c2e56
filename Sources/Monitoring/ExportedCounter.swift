import Prometheus

/// A Prometheus counter fed from a running total kept elsewhere: each scrape adds the increase since
/// the previous one, so the exported series never goes backwards.
struct ExportedCounter {
    let counter: Counter
    private var lastInteger = 0
    private var lastDouble = 0.0

    init(_ counter: Counter) {
        self.counter = counter
    }

    mutating func update(to total: Int) {
        guard total > self.lastInteger else { return }
        self.counter.increment(by: Int64(total - self.lastInteger))
        self.lastInteger = total
    }

    mutating func update(to total: Double) {
        guard total > self.lastDouble else { return }
        self.counter.increment(by: total - self.lastDouble)
        self.lastDouble = total
    }
}

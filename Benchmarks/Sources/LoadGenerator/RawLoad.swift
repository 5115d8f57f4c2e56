import Atomics
import Histogram
import Kafka
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// The ceiling the daemon is compared against: the same record values, sizes and topic spread pushed
/// straight into librdkafka from one thread, with the daemon's producer settings, no WebSocket and no
/// rings in between. Every message's latency runs from its (intended) produce time to its delivery report.
struct RawLoad {
    let plan: LoadPlan

    /// The daemon's default producer settings (see DaemonConfiguration).
    static func producerConfiguration(bootstrapServers: String) -> KafkaConfiguration {
        KafkaConfiguration([
            ("bootstrap.servers", bootstrapServers),
            ("client.id", "load-generator-raw"),
            ("acks", "all"),
            ("enable.idempotence", "true"),
            ("compression.type", "lz4"),
            ("linger.ms", "5"),
            ("message.timeout.ms", "300000"),
            ("queue.buffering.max.kbytes", "65536"),
            ("queue.buffering.max.messages", "100000"),
        ])
    }

    func run() throws -> LoadReport {
        if let given = self.plan.bootstrapServers {
            return try self.measure(bootstrapServers: given, notes: [])
        }
        // Without a cluster to talk to, bring one: librdkafka's mock cluster, in this process. It must
        // outlive the producer and the counter, which are gone when `measure` returns.
        let cluster = try MockCluster(brokers: 1)
        let note = "broker: in-process mock cluster \(cluster.bootstrapServers) (its CPU counts as the generator's)"
        return try withExtendedLifetime(cluster) {
            try self.measure(bootstrapServers: cluster.bootstrapServers, notes: [note])
        }
    }

    private func measure(bootstrapServers: String, notes: [String]) throws -> LoadReport {
        let plan = self.plan
        var notes = notes
        let delivery = try DeliveryCounter(bootstrapServers: bootstrapServers, topics: plan.topics)
        try delivery.takeBaseline()

        var logger = Logger(label: "load-generator.raw") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = .warning
        let producer = try KafkaProducer(
            configuration: Self.producerConfiguration(bootstrapServers: bootstrapServers),
            logger: logger
        )
        let topics = try plan.topics.map { try producer.topic($0) }
        guard producer.fetchMetadata(timeoutMilliseconds: 10_000) else {
            throw LoadGeneratorError.setup("no answer from the Kafka cluster at \(bootstrapServers)")
        }

        // One mutable payload per virtual connection: sequence digits are patched in place, librdkafka copies.
        let templates = (0..<plan.connections).map {
            MessageTemplate(connection: $0, size: plan.size, connections: plan.connections)
        }
        let payloadLength = templates[0].bytes.count
        let payloads = UnsafeMutablePointer<UInt8>.allocate(capacity: payloadLength * plan.connections)
        defer { payloads.deallocate() }
        for (index, template) in templates.enumerated() {
            template.bytes.withUnsafeBufferPointer {
                (payloads + index * payloadLength).update(from: $0.baseAddress!, count: payloadLength)
            }
        }
        let sequenceOffset = templates.map(\.sequenceOffset)

        let total = plan.messages ?? Int.max
        var timestamps = SendTimestamps(capacity: 1 << 18)
        var histogram = LatencySummary.makeHistogram()
        var sent = 0
        var sentByTopic = [Int](repeating: 0, count: topics.count)
        var acked = 0
        var nacked = 0
        var errors = 0
        var deliveredAt: UInt64 = 0
        // `acked` for the throughput sampler's thread: one relaxed store per report, no lock, no allocation.
        let ackedTotal = ManagedAtomic<Int>(0)
        let onDelivery = { (report: DeliveryReport) in
            let now = MonotonicClock.now()
            if report.error == nil {
                acked += 1
                ackedTotal.store(acked, ordering: .relaxed)
            } else {
                nacked += 1
            }
            if let sentAt = timestamps.take(Int(report.opaque)) {
                LatencySummary.record(nanoseconds: now > sentAt ? now - sentAt : 0, into: &histogram)
            }
            deliveredAt = now
        }

        let cpuAtStart = ProcessCPU.seconds()
        let targetCpuAtStart = plan.cpuOf.flatMap { ProcessCPU.seconds(pid: $0) }
        let start = MonotonicClock.now()
        let end = plan.endTime(start: start)
        let sampler = ThroughputSampler(start: start) { ackedTotal.load(ordering: .relaxed) }
        var progress = ProgressLine(start: start)
        let showProgress = { (progress: inout ProgressLine, histogram: Histogram<UInt64>) in
            let now = MonotonicClock.now()
            guard progress.isDue(now: now) else { return }
            progress.print(
                now: now,
                sent: sent,
                acked: acked,
                failed: nacked,
                p99Micros: histogram.valueAtPercentile(99)
            )
        }

        var index = 0
        sending: while index < total {
            var now = MonotonicClock.now()
            var sentAt = now
            if plan.rate > 0 {
                // At a rate the run ends with the last message intended before the end, sent or late.
                sentAt = start + UInt64(Double(index) * plan.nanosecondsPerMessage)
                if let end, sentAt >= end { break }
                if sentAt > now {
                    // Ahead of schedule: serve delivery reports while waiting (blocking up to 1 ms for one).
                    let waitMilliseconds = Int32(min(1, (sentAt - now) / 1_000_000))
                    producer.serveEvents(timeoutMilliseconds: waitMilliseconds, onDelivery: onDelivery)
                    if waitMilliseconds == 0 { usleep(50) }
                    showProgress(&progress, histogram)
                    continue
                }
            } else if let end, now >= end {
                break
            }
            let connection = index % plan.connections
            let payload = payloads + connection * payloadLength
            MessageTemplate.patchSequence(
                index / plan.connections + 1,
                at: payload + sequenceOffset[connection],
                mask: 0,
                maskPhase: 0
            )
            while timestamps.free == 0 { producer.serveEvents(timeoutMilliseconds: 1, onDelivery: onDelivery) }
            let id = timestamps.next
            let topicIndex = plan.topicIndex(connection: connection)
            while true {
                let error = producer.produce(
                    topics[topicIndex],
                    payload: UnsafeRawBufferPointer(start: payload, count: payloadLength),
                    key: nil,
                    opaque: UInt64(id)
                )
                guard let error else { break }
                guard error == .queueFull else {
                    errors += 1
                    Diagnostics.warn("produce failed: \(error)")
                    break sending
                }
                // librdkafka's queue is full: serve delivery reports (blocking up to 1 ms) and retry.
                producer.serveEvents(timeoutMilliseconds: 1, onDelivery: onDelivery)
                now = MonotonicClock.now()
                // Unlimited: the end is the end. At a rate the due message still goes (within the drain time).
                if let end, now >= end + (plan.rate > 0 ? UInt64(plan.drainTimeoutSeconds * 1e9) : 0) { break sending }
            }
            timestamps.append(sentAt)
            sent += 1
            sentByTopic[topicIndex] += 1
            index += 1
            if index & 511 == 0 {
                producer.serveEvents(timeoutMilliseconds: 0, onDelivery: onDelivery)
                showProgress(&progress, histogram)
            }
        }
        let sendEnd = MonotonicClock.now()

        let drainDeadline = sendEnd + UInt64(plan.drainTimeoutSeconds * 1e9)
        while acked + nacked < sent, MonotonicClock.now() < drainDeadline {
            producer.serveEvents(timeoutMilliseconds: 10, onDelivery: onDelivery)
            showProgress(&progress, histogram)
        }
        // All delivered: at the last delivery report, or later if the watermarks lag behind the reports.
        var delivered: Int64?
        var allDelivered = max(deliveredAt, sendEnd)
        var firstCheck = true
        while true {
            delivered = delivery.delivered(expected: sentByTopic) ?? delivered
            if !firstCheck { allDelivered = MonotonicClock.now() }
            if let count = delivered, count >= Int64(acked) { break }
            if MonotonicClock.now() >= drainDeadline { break }
            if let count = delivered, acked + nacked == sent,
                delivery.confirmedButNotGrowing(confirmed: Int64(acked), delivered: count)
            {
                break
            }
            firstCheck = false
            usleep(delivery.pauseMicroseconds)
        }
        let cpuSeconds = ProcessCPU.seconds() - cpuAtStart
        let targetCpuSeconds = plan.cpuOf.flatMap { ProcessCPU.seconds(pid: $0) }.flatMap { now in
            targetCpuAtStart.map { now - $0 }
        }
        let throughput = sampler.stop(end: allDelivered, total: acked)
        progress.finish()

        notes.append(
            "one producer thread, \(plan.rate > 0 ? "rate " + ProgressLine.fixed(plan.rate, 0) + "/s" : "unlimited rate"), daemon's librdkafka settings (acks=all, idempotence, lz4, linger.ms=5)"
        )
        notes.append("acked/nacked = delivery reports; delivered = growth of the topics' watermarks")
        if delivery.trimmed {
            notes.append("WARNING: " + delivery.trimmedWarning)
            Diagnostics.warn(delivery.trimmedWarning)
        }
        return LoadReport(
            mode: .raw,
            connections: plan.connections,
            chats: plan.chats,
            messageBytes: payloadLength,
            sent: sent,
            acked: acked,
            nacked: nacked,
            delivered: delivered,
            durationSeconds: MonotonicClock.seconds(from: start, to: allDelivered),
            sendSeconds: MonotonicClock.seconds(from: start, to: sendEnd),
            latency: LatencySummary(histogram),
            closeCodes: [:],
            cpuSeconds: cpuSeconds,
            errors: errors,
            notes: notes,
            throughputCounts: "acked",
            throughputSeries: throughput,
            targetCpuSeconds: targetCpuSeconds
        )
    }
}

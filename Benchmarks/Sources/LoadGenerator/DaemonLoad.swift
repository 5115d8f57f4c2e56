import Histogram
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// The WebSocket run against the daemon: connect everything, start all connections at one instant,
/// send, wait until what was sent is in Kafka (or acked), then close politely and report.
struct DaemonLoad {
    let plan: LoadPlan

    func run() throws -> LoadReport {
        let plan = self.plan
        let counters = LoadCounters()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        defer { try? group.syncShutdownGracefully() }
        let contexts = LoopContext.make(group: group, plan: plan, counters: counters)

        let delivery = try plan.bootstrapServers.map { try DeliveryCounter(bootstrapServers: $0, topics: plan.topics) }
        try delivery?.takeBaseline()

        let opened = ConnectionOpener.open(
            count: plan.connections,
            wave: 1000,
            plan: plan,
            contexts: contexts,
            counters: counters
        )
        let established = counters.established.load(ordering: .relaxed)
        guard established > 0 else {
            throw LoadGeneratorError.setup("no connection could be opened: \(opened.firstError ?? "unknown error")")
        }
        if opened.failures > 0 {
            Diagnostics.warn("\(opened.failures) of \(plan.connections) connections failed: \(opened.firstError ?? "")")
        }

        let cpuAtStart = ProcessCPU.seconds()
        let targetCpuAtStart = plan.cpuOf.flatMap { ProcessCPU.seconds(pid: $0) }
        let start = MonotonicClock.now() + 2_000_000
        // With acks the series shows what the daemon confirmed; without, what the connections wrote.
        let sampled = plan.acks ? counters.acked : counters.sent
        let sampler = ThroughputSampler(start: start) { sampled.load(ordering: .relaxed) }
        for context in contexts {
            context.loop.scheduleTask(deadline: .uptimeNanoseconds(start)) { context.start(at: start) }
        }
        var progress = ProgressLine(start: start)
        let showProgress = { (progress: inout ProgressLine) in
            let now = MonotonicClock.now()
            guard progress.isDue(now: now) else { return }
            let p99 = plan.acks ? Self.mergedHistogram(contexts).map { $0.valueAtPercentile(99) } : nil
            progress.print(
                now: now,
                sent: counters.sent.load(ordering: .relaxed),
                acked: plan.acks ? counters.acked.load(ordering: .relaxed) : nil,
                failed: counters.nacked.load(ordering: .relaxed),
                p99Micros: p99
            )
        }

        while counters.doneSending.load(ordering: .acquiring) < established {
            usleep(1000)
            showProgress(&progress)
        }
        let sendEnd = max(start, counters.lastSendDone.load(ordering: .relaxed))
        let sent = counters.sent.load(ordering: .relaxed)
        var end = sendEnd
        let drainDeadline = MonotonicClock.now() + UInt64(plan.drainTimeoutSeconds * 1e9)

        if plan.acks {
            // No ack can arrive once every connection is closed (e.g. the server closed them with 1009).
            while counters.acked.load(ordering: .relaxed) + counters.nacked.load(ordering: .relaxed) < sent,
                counters.open.load(ordering: .relaxed) > 0, MonotonicClock.now() < drainDeadline
            {
                usleep(1000)
                showProgress(&progress)
            }
            end = MonotonicClock.now()
        }
        var delivered: Int64?
        if let delivery {
            var sentByTopic = [Int](repeating: 0, count: plan.topics.count)
            for context in contexts {
                for (index, count) in try context.loop.submit({ context.sentByTopic() }).wait().enumerated() {
                    sentByTopic[index] += count
                }
            }
            // Messages the daemon nacked will not arrive; do not wait for them.
            let expected = Int64(plan.acks ? sent - counters.nacked.load(ordering: .relaxed) : sent)
            while true {
                delivered = delivery.delivered(expected: sentByTopic) ?? delivered
                end = MonotonicClock.now()
                if let count = delivered, count >= expected { break }
                if end >= drainDeadline { break }
                let acked = counters.acked.load(ordering: .relaxed)
                if plan.acks, let count = delivered, acked + counters.nacked.load(ordering: .relaxed) >= sent,
                    delivery.confirmedButNotGrowing(confirmed: Int64(acked), delivered: count)
                {
                    break
                }
                usleep(delivery.pauseMicroseconds)
                showProgress(&progress)
            }
        }
        let cpuSeconds = ProcessCPU.seconds() - cpuAtStart
        let targetCpuSeconds = plan.cpuOf.flatMap { ProcessCPU.seconds(pid: $0) }.flatMap { now in
            targetCpuAtStart.map { now - $0 }
        }
        let throughput = sampler.stop(end: end, total: sampled.load(ordering: .relaxed))
        progress.finish()

        for context in contexts { context.loop.execute { context.closeAll() } }
        let closeDeadline = MonotonicClock.now() + 5_000_000_000
        while counters.open.load(ordering: .relaxed) > 0, MonotonicClock.now() < closeDeadline { usleep(1000) }
        for context in contexts { try? context.loop.submit { context.forceCloseAll() }.wait() }

        var closeCodes: [UInt16: Int] = [:]
        for context in contexts {
            let codes = try context.loop.submit { context.closeCodes }.wait()
            closeCodes.merge(codes, uniquingKeysWith: +)
        }
        var notes = [
            "framesPerWrite=\(plan.framesPerWrite) rate=\(plan.rate > 0 ? ProgressLine.fixed(plan.rate, 0) + "/s" : "unlimited") acks=\(plan.acks) eventLoops=\(contexts.count)"
        ]
        if let delivery {
            notes.append(
                "delivered = growth of the topics' watermarks (independent of the daemon; counting all \(plan.topics.count) "
                    + "topic(s) takes \(ProgressLine.fixed(Double(delivery.fullQueryNanoseconds) / 1e6, 1)) ms)"
            )
            if delivery.trimmed {
                notes.append("WARNING: " + delivery.trimmedWarning)
                Diagnostics.warn(delivery.trimmedWarning)
            }
        }
        return LoadReport(
            mode: .daemon,
            connections: plan.connections,
            chats: plan.chats,
            messageBytes: plan.messageBytes,
            sent: sent,
            acked: counters.acked.load(ordering: .relaxed),
            nacked: counters.nacked.load(ordering: .relaxed),
            delivered: delivered,
            durationSeconds: MonotonicClock.seconds(from: start, to: end),
            sendSeconds: MonotonicClock.seconds(from: start, to: sendEnd),
            latency: plan.acks ? Self.mergedHistogram(contexts).flatMap(LatencySummary.init) : nil,
            closeCodes: closeCodes,
            cpuSeconds: cpuSeconds,
            errors: opened.failures + counters.errors.load(ordering: .relaxed),
            notes: notes,
            throughputCounts: plan.acks ? "acked" : "sent",
            throughputSeries: throughput,
            targetCpuSeconds: targetCpuSeconds
        )
    }

    /// All loops' histograms added up (each copied on its own loop; the copy is copy-on-write).
    static func mergedHistogram(_ contexts: [LoopContext]) -> Histogram<UInt64>? {
        var merged = LatencySummary.makeHistogram()
        for context in contexts {
            guard let histogram = try? context.loop.submit({ context.histogram }).wait() else { return nil }
            merged.add(histogram)
        }
        return merged
    }
}

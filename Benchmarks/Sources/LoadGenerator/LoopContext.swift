import Histogram
import NIOCore

/// Everything one event loop owns: its connections, the pacer that releases due messages under
/// `--rate`, its latency histogram and the close codes its connections received. It is only touched on
/// its loop (the main thread reaches it through `submit`), so recording a latency takes no lock.
final class LoopContext: @unchecked Sendable {
    let loop: any EventLoop
    let plan: LoadPlan
    let counters: LoadCounters
    private var connections: [LoadConnection] = []
    var histogram = LatencySummary.makeHistogram()
    var closeCodes: [UInt16: Int] = [:]
    private var pacer: RepeatedTask?
    private var stopTimer: Scheduled<Void>?

    init(loop: any EventLoop, plan: LoadPlan, counters: LoadCounters) {
        self.loop = loop
        self.plan = plan
        self.counters = counters
    }

    func register(_ connection: LoadConnection) {
        self.loop.preconditionInEventLoop()
        self.connections.append(connection)
    }

    /// Starts every connection of this loop at `start` (the same instant on all loops).
    func start(at start: UInt64) {
        self.loop.preconditionInEventLoop()
        for connection in self.connections { connection.startSending(at: start) }
        if self.plan.rate > 0 {
            // 1 ms ticks: each tick writes what became due since the last one as one batch per connection.
            self.pacer = self.loop.scheduleRepeatedTask(initialDelay: .zero, delay: .milliseconds(1)) { task in
                self.paceTick(task)
            }
        }
        if let end = self.plan.endTime(start: start) {
            self.stopTimer = self.loop.scheduleTask(deadline: .uptimeNanoseconds(end)) {
                for connection in self.connections {
                    // At a rate, the last pump releases what is still due and then finishes by itself.
                    if self.plan.rate > 0 { connection.pump(finalAt: end) } else { connection.finishSending() }
                }
            }
        }
    }

    private func paceTick(_ task: RepeatedTask) {
        var active = false
        for connection in self.connections where connection.isSending {
            connection.pump()
            active = active || connection.isSending
        }
        if !active { task.cancel() }
    }

    /// Messages this loop's connections sent, per topic index.
    func sentByTopic() -> [Int] {
        var counts = [Int](repeating: 0, count: self.plan.topics.count)
        for connection in self.connections {
            counts[self.plan.topicIndex(connection: connection.index)] += connection.sent
        }
        return counts
    }

    @inline(__always)
    func recordLatency(nanoseconds: UInt64) {
        LatencySummary.record(nanoseconds: nanoseconds, into: &self.histogram)
    }

    /// Polite end of the run: every open connection sends a close frame and waits for the server's.
    func closeAll() {
        self.loop.preconditionInEventLoop()
        self.pacer?.cancel()
        self.stopTimer?.cancel()
        for connection in self.connections { connection.close() }
    }

    /// Connections that did not finish the closing handshake in time are dropped.
    func forceCloseAll() {
        for connection in self.connections { connection.forceClose() }
    }
}

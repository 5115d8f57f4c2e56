import Histogram
import NIOCore

/// Everything one event loop owns: its connections, the pacer that releases due messages under
/// `--rate`, its latency histogram and the close codes its connections received. It is only touched on
/// its loop (the main thread reaches it through `submit`), so recording a latency takes no lock.
///
/// Connection i belongs to loop i % loops (ConnectionOpener), so the pacer finds the owner of global
/// message k — connection k % connections — without a search, and each tick visits only the connections
/// with a newly due message: with 10 000 connections at a few messages per second each, a tick that
/// visited all of them would cost the generator a core.
final class LoopContext: @unchecked Sendable {
    let loop: any EventLoop
    let plan: LoadPlan
    let counters: LoadCounters
    /// This loop's position among `loops` (the loop of connection i is i % loops).
    let number: Int
    let loops: Int
    private var connections: [LoadConnection] = []
    /// This loop's connections by `index / loops` (nil where a connection failed), built at the start.
    private var byIndex: [LoadConnection?] = []
    /// Messages of the global schedule already released by the pacer (due before its last tick).
    private var released = 0
    var histogram = LatencySummary.makeHistogram()
    var closeCodes: [UInt16: Int] = [:]
    private var pacer: RepeatedTask?
    private var startTime: UInt64 = 0
    private var stopTimer: Scheduled<Void>?

    init(loop: any EventLoop, plan: LoadPlan, counters: LoadCounters, number: Int, loops: Int) {
        self.loop = loop
        self.plan = plan
        self.counters = counters
        self.number = number
        self.loops = loops
    }

    /// One context per loop of `group`, numbered in the order ConnectionOpener assigns connections.
    static func make(group: any EventLoopGroup, plan: LoadPlan, counters: LoadCounters) -> [LoopContext] {
        let loops = Array(group.makeIterator())
        return loops.enumerated().map {
            LoopContext(loop: $0.element, plan: plan, counters: counters, number: $0.offset, loops: loops.count)
        }
    }

    func register(_ connection: LoadConnection) {
        self.loop.preconditionInEventLoop()
        self.connections.append(connection)
    }

    /// Starts every connection of this loop at `start` (the same instant on all loops).
    func start(at start: UInt64) {
        self.loop.preconditionInEventLoop()
        self.startTime = start
        for connection in self.connections { connection.startSending(at: start) }
        if self.plan.rate > 0 {
            self.byIndex = [LoadConnection?](
                repeating: nil,
                count: (self.plan.connections + self.loops - 1) / self.loops
            )
            for connection in self.connections { self.byIndex[connection.index / self.loops] = connection }
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

    /// Pumps the connections that own a message which became due since the last tick (all of them when a
    /// tick covers a whole round). A connection that could not write everything due (window full, socket
    /// not writable, turn used up) is pumped again by its own ack, writability or scheduled pump, not here.
    private func paceTick(_ task: RepeatedTask) {
        let now = MonotonicClock.now()
        var due = self.plan.globalDueCount(start: self.startTime, now: now)
        if let messages = self.plan.messages { due = min(due, messages) }
        let connections = self.plan.connections
        if due - self.released >= connections {
            for connection in self.connections where connection.isSending { connection.pump() }
        } else {
            for message in self.released..<due {
                let owner = message % connections
                guard owner % self.loops == self.number, let connection = self.byIndex[owner / self.loops] else {
                    continue
                }
                if connection.isSending { connection.pump() }
            }
        }
        self.released = max(self.released, due)
        // Everything is released (the end timer releases the rest of a --duration run).
        if let messages = self.plan.messages, due >= messages { task.cancel() }
        if let end = self.plan.endTime(start: self.startTime), now >= end { task.cancel() }
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

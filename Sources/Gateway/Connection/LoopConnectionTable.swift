import Ingest
import NIOCore

/// The WebSocket connections of one event loop, by slot, so a delivery report can find its connection
/// from the few bits of its `MessageTicket` — no dictionary, no lock: only this loop touches the table.
final class LoopConnectionTable: @unchecked Sendable {
    // @unchecked Sendable: loop-bound. Every method that touches the slots checks
    // `preconditionInEventLoop()`; `sweepInterval` is set by `GatewayContext` before any connection, and
    // afterwards only on this loop (`changeSweepInterval`).
    let route: Int
    let eventLoop: any EventLoop
    /// Written by this loop only, as `LatencyHistogram` requires.
    let ackLatency: LatencyHistogram
    private var handlers: [WebSocketConnectionHandler?] = []
    private var generations: [UInt32] = []
    private var freeSlots: [Int] = []
    private(set) var count = 0
    /// How often `sweep` runs while the loop has connections (idle and overload timeouts); nil when no
    /// timeout is on.
    var sweepInterval: TimeAmount?
    private var sweepTask: RepeatedTask?

    init(route: Int, eventLoop: any EventLoop, ackLatency: LatencyHistogram) {
        self.route = route
        self.eventLoop = eventLoop
        self.ackLatency = ackLatency
    }

    /// Sweeps for a connection whose credential expires when no timeout asks for them: expiry is seen within
    /// this long.
    static let credentialSweepInterval = TimeAmount.seconds(1)

    /// - Parameter expires: the connection's credential expires, so it needs sweeps even with every timeout off.
    func register(_ handler: WebSocketConnectionHandler, expires: Bool) -> (slot: Int, generation: UInt32) {
        self.eventLoop.preconditionInEventLoop()
        self.count += 1
        if self.sweepTask == nil,
            let interval = self.sweepInterval ?? (expires ? Self.credentialSweepInterval : nil)
        {
            self.startSweeping(every: interval)
        }
        if let slot = self.freeSlots.popLast() {
            self.handlers[slot] = handler
            return (slot, self.generations[slot])
        }
        precondition(self.handlers.count < MessageTicket.maxSlots, "too many connections on one event loop")
        self.handlers.append(handler)
        self.generations.append(0)
        return (self.handlers.count - 1, 0)
    }

    func unregister(slot: Int) {
        self.eventLoop.preconditionInEventLoop()
        self.handlers[slot] = nil
        // A new generation makes late reports for the old connection miss the new one.
        self.generations[slot] = (self.generations[slot] &+ 1) & MessageTicket.generationMask
        self.freeSlots.append(slot)
        self.count -= 1
        if self.count == 0 {
            self.sweepTask?.cancel()
            self.sweepTask = nil
        }
    }

    /// A reload changed the timeouts: sweep at the new interval from now on. With connections open and every
    /// timeout off, it sweeps every second (for credential expiry), which costs nothing noticeable.
    func changeSweepInterval(_ interval: TimeAmount?) {
        self.eventLoop.preconditionInEventLoop()
        guard interval != self.sweepInterval else { return }
        self.sweepInterval = interval
        self.sweepTask?.cancel()
        self.sweepTask = nil
        if self.count > 0 { self.startSweeping(every: interval ?? Self.credentialSweepInterval) }
    }

    /// One timer per loop for the connections' timeouts, instead of one per connection; it runs only
    /// while the loop has connections.
    private func startSweeping(every interval: TimeAmount) {
        self.sweepTask = self.eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { _ in
            let now = MonotonicClock.nanoseconds()
            self.forEachConnection { $0.sweep(now: now) }
        }
    }

    /// Routes a batch of delivery results to their connections; each connection flushes once.
    func deliver(_ results: [DeliveryResult]) {
        self.eventLoop.preconditionInEventLoop()
        var touched: [WebSocketConnectionHandler] = []
        for report in results {
            let ticket = report.ticket
            guard ticket.slot < self.handlers.count,
                self.generations[ticket.slot] == ticket.generation,
                let handler = self.handlers[ticket.slot]
            else {
                continue  // the connection is gone; the outcome is still counted by the producer thread
            }
            if handler.acknowledge(report, sequence: ticket.sequence) {
                touched.append(handler)
            }
        }
        for handler in touched { handler.flushAcknowledgements() }
    }

    func forEachConnection(_ body: (WebSocketConnectionHandler) -> Void) {
        self.eventLoop.preconditionInEventLoop()
        for case let handler? in self.handlers { body(handler) }
    }
}

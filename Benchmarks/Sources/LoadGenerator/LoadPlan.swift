/// The validated settings of one run and the arithmetic every sender shares: which path and topic a
/// connection uses, how many messages it owns, and, with a rate, when each message is due.
///
/// The open-loop schedule is global: message k (0-based, over all connections) is due at
/// `start + k / rate`, and connection i owns messages i, i + C, i + 2C, … . A message's intended send
/// time is therefore computed, never stored, and latency measured from it does not suffer from
/// coordinated omission (a stalled daemon delays the sends, not the clock).
struct LoadPlan: Sendable {
    enum Mode: String, Sendable {
        case daemon
        case raw
        case idle
    }

    var mode: Mode
    var target: LoopbackEndpoint?
    var connections: Int
    var chats: Int
    /// Total over all connections; nil with `duration`.
    var messages: Int?
    var durationSeconds: Double?
    /// Messages per second over all connections; 0 = as fast as possible.
    var rate: Double
    var size: Int
    var framesPerWrite: Int
    var acks: Bool
    var bootstrapServers: String?
    var drainTimeoutSeconds: Double
    var json: Bool
    /// Another process whose CPU time over the measured span is reported (`--cpu-of`).
    var cpuOf: Int32? = nil
    /// Every message carries an `id` (`--message-ids`).
    var messageIDs = false

    /// Exact payload size of every message (all connections pad to the same length).
    var messageBytes: Int {
        MessageTemplate.payloadLength(
            size: self.size,
            connections: self.connections,
            withID: self.messageIDs
        )
    }

    func path(connection: Int) -> String {
        let base = self.chats == 0 ? "/send-message/global" : "/send-message/chat/room-\(connection % self.chats)"
        return self.acks ? base + "?ack=1" : base
    }

    /// Index into `topics` for a connection.
    func topicIndex(connection: Int) -> Int { self.chats == 0 ? 0 : connection % self.chats }

    /// The topics that receive messages (with fewer connections than chats, only the first ones do).
    var topics: [String] {
        self.chats == 0
            ? ["kafka.chat.global"] : (0..<min(self.chats, self.connections)).map { "kafka.chat.room-\($0)" }
    }

    /// Messages connection `index` sends; `Int.max` when the run is bounded by time.
    func quota(connection index: Int) -> Int {
        guard let messages = self.messages else { return Int.max }
        guard index < messages else { return 0 }
        return (messages - index + self.connections - 1) / self.connections
    }

    var nanosecondsPerMessage: Double { 1e9 / self.rate }

    func endTime(start: UInt64) -> UInt64? {
        self.durationSeconds.map { start + UInt64($0 * 1e9) }
    }

    /// Intended send time of the connection's message `sequence` (0-based) under `--rate`.
    @inline(__always)
    func intendedTime(connection: Int, sequence: Int, start: UInt64) -> UInt64 {
        let globalIndex = Double(connection) + Double(sequence) * Double(self.connections)
        return start + UInt64(globalIndex * self.nanosecondsPerMessage)
    }

    /// How many messages of the global schedule (all connections) are due by `now` under `--rate`.
    @inline(__always)
    func globalDueCount(start: UInt64, now: UInt64) -> Int {
        var now = now
        if let end = self.endTime(start: start), now >= end { now = end - 1 }
        guard now >= start else { return 0 }
        return Int((Double(now - start) / self.nanosecondsPerMessage).rounded(.down)) + 1
    }

    /// How many of the connection's messages are due by `now` under `--rate` (ignoring its quota).
    @inline(__always)
    func dueCount(connection: Int, start: UInt64, now: UInt64) -> Int {
        var now = now
        if let end = self.endTime(start: start), now >= end { now = end - 1 }
        guard now >= start else { return 0 }
        let globalDue = Double(now - start) / self.nanosecondsPerMessage
        let mine = globalDue - Double(connection)
        guard mine >= 0 else { return 0 }
        return Int((mine / Double(self.connections)).rounded(.down)) + 1
    }
}

/// The ack side of a connection: the sequence of its last accepted message, the message numbers, and the
/// acks awaiting their delivery reports (at most `window` of them: the admission limit
/// `maxAcksInFlight`).
struct ConnectionAcks {
    /// `?ack=1`: one reply per message after its delivery report.
    let wantsAcks: Bool
    /// `maxAcksInFlight`: no message is admitted while this many acks are outstanding.
    let window: Int
    /// The bits of `MessageTicket` that carry the sequence.
    let sequenceMask: UInt32
    /// The sequence of the last message accepted into the ring (0 before the first).
    private(set) var sequence: UInt32 = 0
    /// Messages accepted or refused on an ack-mode connection, 1-based: the ack id of a message without `id`.
    private(set) var messageNumber: UInt64 = 0
    private var pending: [UInt32: PendingAck] = [:]

    init(wantsAcks: Bool, window: Int, sequenceMask: UInt32) {
        self.wantsAcks = wantsAcks
        self.window = window
        self.sequenceMask = sequenceMask
    }

    var inFlight: Int { self.pending.count }

    /// No further message may be admitted before some acks are written.
    @inline(__always)
    var isWindowFull: Bool { self.wantsAcks && self.pending.count >= self.window }

    /// Reading resumes once at most half the window is outstanding, so it does not flap per ack.
    var hasRoomToResume: Bool { self.pending.count <= self.window / 2 }

    /// The sequence the next accepted message gets.
    @inline(__always)
    var nextSequence: UInt32 { (self.sequence &+ 1) & self.sequenceMask }

    /// The message with `sequence` is in the ring. Ack mode: returns its number, and the caller records
    /// its `PendingAck` with `awaitAck`.
    @inline(__always)
    mutating func pushed(sequence: UInt32) -> UInt64? {
        self.sequence = sequence
        guard self.wantsAcks else { return nil }
        self.messageNumber += 1
        return self.messageNumber
    }

    mutating func awaitAck(sequence: UInt32, _ ack: PendingAck) {
        self.pending[sequence] = ack
    }

    /// A message refused at shutdown: its number for the nack, nil when the client wants no acks.
    mutating func refused() -> UInt64? {
        guard self.wantsAcks else { return nil }
        self.messageNumber += 1
        return self.messageNumber
    }

    /// The pending ack of `sequence`, forgotten; nil for a sequence not awaiting one.
    mutating func acknowledge(sequence: UInt32) -> PendingAck? {
        self.pending.removeValue(forKey: sequence)
    }

    mutating func forgetAll() {
        self.pending.removeAll()
    }
}

/// Why a connection's reading is paused; any reason pauses reading, those in `blocksProcessing` also
/// pause processing (the bytes already read stay where they are).
struct ConnectionPauseReasons: OptionSet, Sendable {
    let rawValue: UInt8
    static let ringFull = ConnectionPauseReasons(rawValue: 1)
    static let acksInFlight = ConnectionPauseReasons(rawValue: 2)
    static let unwritable = ConnectionPauseReasons(rawValue: 4)
    static let draining = ConnectionPauseReasons(rawValue: 8)
    /// Over `limits.messages_per_second`/`bytes_per_second`; a scheduled task resumes it. Not part of
    /// `backpressure`: it is the client's doing, not Kafka's, and must not page anyone.
    static let rateLimited = ConnectionPauseReasons(rawValue: 16)
    static let blocksProcessing: ConnectionPauseReasons = [.ringFull, .acksInFlight, .rateLimited]
    /// What the paused-connections gauge follows (not the shutdown's stop of reads, not the rate limit).
    static let backpressure: ConnectionPauseReasons = [.ringFull, .acksInFlight, .unwritable]
    /// Waiting for Kafka: what `limits.overload_close_seconds` measures.
    static let kafkaBlocked: ConnectionPauseReasons = [.ringFull, .acksInFlight]
}

/// Outcome of `TopicRing.push`.
public enum RingPushResult: Equatable, Sendable {
    /// The record is committed and will be offered to the consumer in claim order.
    case pushed
    /// Not enough free space right now; nothing was reserved and `fill` was not called.
    /// The caller applies backpressure and retries once the consumer has freed space.
    case full
    /// The payload exceeds `maxPayloadBytes` and can never fit; `fill` was not called.
    case tooLarge
}

import ChatContract

/// What the gateway needs of the ingest pipeline: a topic's ring to write messages into, the counters
/// it adds to, and the few facts about Kafka that a handshake may ask. `ProducerThread` is the real one;
/// tests give the gateway their own. The gateway sees nothing of Kafka beyond this.
public protocol MessageIngest: AnyObject, Sendable {
    /// Counters of every message outcome (accepted, rejected, delivered, failed…).
    var counters: IngestCounters { get }
    /// The ring of `topic` for one more connection; refused when the topic or byte budget is spent.
    func attach(to topic: TopicName) throws(RingRegistryError) -> TopicBuffer
    /// The connection that attached `buffer` has gone.
    func detach(_ buffer: TopicBuffer)
    /// Ring figures for `/health`.
    func usage() -> RingRegistry.Usage
    /// The names of the topics that exist in the cluster and start with `prefix`, or nil when the cluster
    /// did not answer within the timeout. Blocks the caller: call it off the event loops.
    func topicNames(withPrefix prefix: String, timeoutMilliseconds: Int32) -> Set<String>?
    /// Graceful shutdown: returns once every accepted message has a delivery outcome (and its ack was
    /// handed to the receiver), or at `deadline`, after failing and reporting what was left.
    func drain(deadline: ContinuousClock.Instant) async -> ProducerThread.DrainSummary
}

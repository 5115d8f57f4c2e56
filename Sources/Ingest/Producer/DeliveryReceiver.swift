/// Receives delivery outcomes for messages whose ticket asked for an acknowledgement, grouped by route
/// (event loop), so that the producer thread makes one hand-off per loop per batch instead of one per message.
public protocol DeliveryReceiver: AnyObject, Sendable {
    /// Called on the producer thread; implementations hand the batch to the loop named by `route`.
    func deliver(_ results: [DeliveryResult], route: Int)
}

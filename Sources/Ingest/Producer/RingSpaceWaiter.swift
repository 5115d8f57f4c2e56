/// A connection paused because its topic ring was full; told once when the producer has freed space.
///
/// Implementations hop to their own event loop; the call comes from the producer thread.
public protocol RingSpaceWaiter: AnyObject, Sendable {
    func ringHasSpace()
}

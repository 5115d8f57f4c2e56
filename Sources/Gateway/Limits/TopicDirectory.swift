import ChatContract
import Ingest
import NIOCore
import NIOPosix
import Synchronization

/// Answers "does this chat's topic exist in the cluster?" for `topics.require_existing`, from a cached
/// list of the cluster's chat topics, so a handshake costs a set lookup, not a metadata round trip.
///
/// The list comes from a metadata request for all topics: asking for one named topic would let a
/// producer's request auto-create it on brokers that allow that, which is exactly what this check is
/// meant to prevent; it also means a flood of handshakes for invented chats costs Kafka nothing. The
/// request blocks, so it runs on NIO's thread pool, one at a time; handshakes that need the list while it
/// is being fetched wait for that same request (their upgrade decision completes asynchronously, the
/// event loop never blocks). A failed fetch keeps the previous list; with no list at all the answer is
/// `unknown`, and a new attempt is made at most once a second.
final class TopicDirectory: Sendable {
    private struct State {
        var names: Set<String>?
        var fetchedAt: UInt64 = 0
        var failedAt: UInt64 = 0
        var inFlight: EventLoopFuture<Set<String>?>?
    }

    private enum Step {
        case answer(TopicExistence)
        case wait(EventLoopFuture<Set<String>?>)
        case fetch(EventLoopPromise<Set<String>?>)
    }

    private static let retryAfterFailure: UInt64 = 1_000_000_000

    private let state = Mutex(State())
    private let ttl: UInt64
    private let pool: NIOThreadPool
    /// Blocking: the cluster's chat topic names, or nil when no broker answered.
    private let list: @Sendable () -> Set<String>?

    init(ttl: Duration, pool: NIOThreadPool = .singleton, list: @escaping @Sendable () -> Set<String>?) {
        self.ttl = ttl.nanoseconds
        self.pool = pool
        self.list = list
    }

    func lookUp(_ topic: TopicName, on loop: any EventLoop) -> EventLoopFuture<TopicExistence> {
        let now = MonotonicClock.nanoseconds()
        let step: Step = self.state.withLock { state in
            if let names = state.names, now &- state.fetchedAt < self.ttl {
                return .answer(names.contains(topic.value) ? .exists : .missing)
            }
            if let inFlight = state.inFlight { return .wait(inFlight) }
            if state.names == nil, state.failedAt != 0, now &- state.failedAt < Self.retryAfterFailure {
                return .answer(.unknown)
            }
            let promise = loop.makePromise(of: Set<String>?.self)
            state.inFlight = promise.futureResult
            return .fetch(promise)
        }
        switch step {
        case .answer(let answer):
            return loop.makeSucceededFuture(answer)
        case .wait(let future):
            return future.hop(to: loop).map { Self.answer(topic, in: $0) }
        case .fetch(let promise):
            self.pool.submit { work in
                let fetched = work == .active ? self.list() : nil
                let names: Set<String>? = self.state.withLock { state in
                    let finished = MonotonicClock.nanoseconds()
                    if let fetched {
                        state.names = fetched
                        state.fetchedAt = finished
                    } else {
                        state.failedAt = finished
                    }
                    state.inFlight = nil
                    return state.names
                }
                promise.succeed(names)
            }
            return promise.futureResult.map { Self.answer(topic, in: $0) }
        }
    }

    private static func answer(_ topic: TopicName, in names: Set<String>?) -> TopicExistence {
        guard let names else { return .unknown }
        return names.contains(topic.value) ? .exists : .missing
    }
}

import Atomics

/// Rings with work for the producer thread: a lock-free stack that event loops push onto and the producer
/// thread empties in one exchange. Taking the whole list at once means no ABA problem, and the `scheduled`
/// flag guarantees a ring is in the queue at most once, so its intrusive link is never shared.
final class ReadyTopicQueue: @unchecked Sendable {
    // @unchecked Sendable: the only state is an atomic pointer (`UnsafeAtomic`, created in init, destroyed
    // in deinit); the invariants above make its lock-free use safe.
    private let head = UnsafeAtomic<UnsafeMutableRawPointer?>.create(nil)

    deinit {
        var node = self.head.exchange(nil, ordering: .acquiring)
        while let raw = node {
            let buffer = Unmanaged<TopicBuffer>.fromOpaque(raw)
            node = buffer.takeUnretainedValue().nextReady.map { $0.toOpaque() }
            buffer.release()
        }
        self.head.destroy()
    }

    /// Any thread. Keeps a +1 reference until taken.
    func push(_ buffer: TopicBuffer) {
        let node = Unmanaged.passRetained(buffer)
        var current = self.head.load(ordering: .relaxed)
        while true {
            buffer.nextReady = current.map { Unmanaged<TopicBuffer>.fromOpaque($0) }
            let (exchanged, original) = self.head.compareExchange(
                expected: current,
                desired: node.toOpaque(),
                ordering: .sequentiallyConsistent
            )
            if exchanged { return }
            current = original
        }
    }

    var isEmpty: Bool { self.head.load(ordering: .sequentiallyConsistent) == nil }

    /// Producer thread only: everything pushed so far, oldest first.
    func takeAll(into list: inout [TopicBuffer]) {
        var node = self.head.exchange(nil, ordering: .acquiring)
        let start = list.count
        while let raw = node {
            let buffer = Unmanaged<TopicBuffer>.fromOpaque(raw).takeRetainedValue()
            node = buffer.nextReady.map { $0.toOpaque() }
            buffer.nextReady = nil
            list.append(buffer)
        }
        list[start...].reverse()
    }
}

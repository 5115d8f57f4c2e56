import Atomics

/// Counts WebSocket connections, in total and per client address, and refuses handshakes beyond the limits.
///
/// Touched twice per connection (admission at the handshake, release when the channel closes), never per
/// message. The total is one atomic; the per-client counts are spread over locked shards by address, so
/// no single lock is shared by every handshake. Every connection is counted, also while a limit is off, so
/// a reload can set or change the limits (`update`) with the counts right.
final class ConnectionLimiter: Sendable {
    enum Verdict: Equatable {
        case admitted
        case tooManyConnections
        case tooManyFromClient
    }

    private let maxConnectionsNow: ManagedAtomic<Int>
    private let maxPerClientNow: ManagedAtomic<Int>
    private let total = ManagedAtomic<Int>(0)
    private let shards: [ConnectionLimiterShard]

    init(maxConnections: Int, maxPerClient: Int, shardCount: Int = 64) {
        self.maxConnectionsNow = ManagedAtomic(maxConnections)
        self.maxPerClientNow = ManagedAtomic(maxPerClient)
        self.shards = (0..<shardCount).map { _ in ConnectionLimiterShard() }
    }

    /// 0 = no limit.
    var maxConnections: Int { self.maxConnectionsNow.load(ordering: .relaxed) }
    var maxPerClient: Int { self.maxPerClientNow.load(ordering: .relaxed) }

    /// New limits from a reload; connections already over them stay, only new ones are refused.
    func update(maxConnections: Int, maxPerClient: Int) {
        self.maxConnectionsNow.store(maxConnections, ordering: .relaxed)
        self.maxPerClientNow.store(maxPerClient, ordering: .relaxed)
    }

    /// Counts one connection of `client` if both limits allow it; `release` must follow an admission.
    func admit(_ client: ClientKey?) -> Verdict {
        let maxConnections = self.maxConnections
        var current = self.total.load(ordering: .relaxed)
        while true {
            if maxConnections > 0 && current >= maxConnections { return .tooManyConnections }
            let (exchanged, original) = self.total.weakCompareExchange(
                expected: current,
                desired: current + 1,
                ordering: .relaxed
            )
            if exchanged { break }
            current = original
        }
        let perClient = self.maxPerClient
        if self.countsPerClient(client), let client,
            !self.shard(client).increment(client, limit: perClient > 0 ? perClient : .max)
        {
            self.total.wrappingDecrement(ordering: .relaxed)
            return .tooManyFromClient
        }
        return .admitted
    }

    func release(_ client: ClientKey?) {
        if self.countsPerClient(client), let client { self.shard(client).decrement(client) }
        self.total.wrappingDecrement(ordering: .relaxed)
    }

    /// Loopback peers are this machine (see `ClientKey.isLoopback`): only the total limit applies to them.
    private func countsPerClient(_ client: ClientKey?) -> Bool {
        client.map { !$0.isLoopback } ?? false
    }

    var connections: Int { self.total.load(ordering: .relaxed) }

    func connections(of client: ClientKey) -> Int { self.shard(client).count(client) }

    /// Addresses with at least one connection (entries at zero are gone).
    var clients: Int { self.shards.reduce(0) { $0 + $1.clients } }

    private func shard(_ client: ClientKey) -> ConnectionLimiterShard {
        self.shards[Int(UInt(bitPattern: client.shardHash) % UInt(self.shards.count))]
    }
}

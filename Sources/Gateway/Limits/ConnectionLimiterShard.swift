import Synchronization

/// One slice of the per-client connection counts, with its own lock, so handshakes from different
/// clients rarely wait for each other. Entries are removed when they reach zero.
final class ConnectionLimiterShard: Sendable {
    private let counts = Mutex<[ClientKey: Int]>([:])

    /// Counts one more connection for `key` unless it already has `limit`.
    func increment(_ key: ClientKey, limit: Int) -> Bool {
        self.counts.withLock { counts in
            let current = counts[key, default: 0]
            guard current < limit else { return false }
            counts[key] = current + 1
            return true
        }
    }

    func decrement(_ key: ClientKey) {
        self.counts.withLock { counts in
            guard let current = counts[key] else { return }
            counts[key] = current > 1 ? current - 1 : nil
        }
    }

    func count(_ key: ClientKey) -> Int {
        self.counts.withLock { $0[key, default: 0] }
    }

    var clients: Int {
        self.counts.withLock { $0.count }
    }
}

import Synchronization

/// An operator's chat-name regular expression, shareable between event loops.
///
/// `Regex` is not `Sendable`, so matches run under a lock: one short match per handshake (never per
/// message), so the lock is held for microseconds at handshake rate.
final class ChatPattern: Sendable {
    private let regex: Mutex<Regex<AnyRegexOutput>>

    /// Throws the regex compiler's error for a malformed pattern.
    init(_ pattern: String) throws {
        self.regex = Mutex(try Regex(pattern))
    }

    /// True when `name` matches the whole pattern (a prefix match is not enough).
    func matchesEntirely(_ name: Substring) -> Bool {
        self.regex.withLock { regex in (try? regex.wholeMatch(in: name)) != nil }
    }
}

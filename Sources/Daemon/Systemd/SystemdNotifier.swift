import CSystemd

/// Talks to systemd through `sd_notify` (libsystemd). Outside systemd — no `NOTIFY_SOCKET` — every call
/// is a cheap no-op, so the daemon needs no special mode to run by hand.
public struct SystemdNotifier: Sendable {
    public init() {}

    /// The listeners are bound and Kafka answered: systemd may consider the service started.
    public func ready(status: String) {
        self.send("READY=1\nSTATUS=\(status)")
    }

    public func status(_ text: String) {
        self.send("STATUS=\(text)")
    }

    /// Proof of progress; only sent when the watchdog checks passed.
    public func watchdog() {
        self.send("WATCHDOG=1")
    }

    /// Draining started; `extendMicroseconds` asks systemd for that much more stop time.
    public func stopping(extendMicroseconds: UInt64) {
        self.send("STOPPING=1\nEXTEND_TIMEOUT_USEC=\(extendMicroseconds)\nSTATUS=draining")
    }

    /// The ping interval systemd expects (half of `WatchdogSec=`), or nil when no watchdog is configured.
    public static func watchdogInterval() -> Duration? {
        var microseconds: UInt64 = 0
        guard sd_watchdog_enabled(0, &microseconds) > 0, microseconds > 0 else { return nil }
        return .microseconds(Int64(microseconds / 2))
    }

    private func send(_ state: String) {
        _ = sd_notify(0, state)
    }
}

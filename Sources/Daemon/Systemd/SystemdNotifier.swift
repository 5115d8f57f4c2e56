import CSystemd

#if canImport(Glibc)
import Glibc
#endif

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

    /// A reload (SIGHUP) began: systemd ≥ 253 shows the unit as reloading until `READY=1`, and
    /// `MONOTONIC_USEC` tells it which reload this is (what `Type=notify-reload` expects).
    public func reloading() {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let microseconds = UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1000
        self.send("RELOADING=1\nMONOTONIC_USEC=\(microseconds)\nSTATUS=reloading configuration")
    }

    /// The reload finished, applied or refused (the daemon serves either way).
    public func reloaded(status: String) {
        self.send("READY=1\nSTATUS=\(status)")
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

// MARK: the file descriptor store

extension SystemdNotifier {
    /// Hands a copy of `fd` to systemd's file descriptor store (`FDSTORE=1`, `FDNAME=name`); systemd
    /// passes it back to the next process of the service (`LISTEN_FDS`, `LISTEN_FDNAMES`). The result is
    /// sd_pid_notify_with_fds's: positive when sent, 0 without `NOTIFY_SOCKET`, negative errno on failure.
    /// Sent is not kept: with `FileDescriptorStoreMax=0` systemd drops it and nothing says so here.
    @discardableResult
    public func storeFileDescriptor(_ fd: Int32, name: String) -> Int32 {
        var descriptors = [fd]
        return sd_pid_notify_with_fds(0, 0, "FDSTORE=1\nFDNAME=\(name)", &descriptors, 1)
    }

    /// Closes the stored descriptors named `name` in systemd's store (`FDSTOREREMOVE=1`).
    @discardableResult
    public func removeStoredFileDescriptors(name: String) -> Int32 {
        sd_notify(0, "FDSTOREREMOVE=1\nFDNAME=\(name)")
    }
}

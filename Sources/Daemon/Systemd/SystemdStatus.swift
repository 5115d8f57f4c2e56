import Synchronization

/// What the services share about the daemon's standing with systemd: whether READY=1 went out (a reload
/// before that must not send READY=1 — systemd would take the start as finished), and a note the periodic
/// `STATUS=` line carries after the counters (a refused reload, a key waiting for a restart), so it stays
/// visible in `systemctl status` instead of being overwritten seconds later.
final class SystemdStatus: Sendable {
    private let readyAnnounced = Atomic(false)
    private let noteText = Mutex<String?>(nil)

    var isReadyAnnounced: Bool { self.readyAnnounced.load(ordering: .acquiring) }

    func announcedReady() {
        self.readyAnnounced.store(true, ordering: .releasing)
    }

    var note: String? {
        get { self.noteText.withLock { $0 } }
        set { self.noteText.withLock { $0 = newValue } }
    }
}

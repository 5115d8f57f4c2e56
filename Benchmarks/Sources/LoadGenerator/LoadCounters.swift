import Atomics

/// Totals that the main thread reads while event loops update them. Loops add per batch or per read,
/// never per message, so the shared cache lines stay quiet.
final class LoadCounters: Sendable {
    let sent = ManagedAtomic<Int>(0)
    let acked = ManagedAtomic<Int>(0)
    let nacked = ManagedAtomic<Int>(0)
    /// Connection failures: refused, upgrade not 101, dropped or closed by the server mid-run.
    let errors = ManagedAtomic<Int>(0)
    /// Connections whose upgrade succeeded.
    let established = ManagedAtomic<Int>(0)
    /// Established connections that have not closed yet.
    let open = ManagedAtomic<Int>(0)
    /// Established connections that will send nothing more (quota, deadline or closed).
    let doneSending = ManagedAtomic<Int>(0)
    /// Latest moment a connection's last bytes were handed to the kernel.
    let lastSendDone = ManagedAtomic<UInt64>(0)

    func markSendDone(at time: UInt64) {
        var current = self.lastSendDone.load(ordering: .relaxed)
        while time > current {
            let (exchanged, original) = self.lastSendDone.compareExchange(
                expected: current,
                desired: time,
                ordering: .relaxed
            )
            if exchanged { break }
            current = original
        }
        self.doneSending.wrappingIncrement(ordering: .releasing)
    }
}

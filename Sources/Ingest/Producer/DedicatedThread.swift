import CLinux

#if canImport(Glibc)
import Glibc
#endif

/// Starts a named OS thread outside any executor: the producer thread must never be an async task,
/// because it sleeps in `poll` and must not take a cooperative-pool thread away from Swift concurrency.
enum DedicatedThread {
    private final class Entry {
        let body: () -> Void
        init(_ body: @escaping () -> Void) { self.body = body }
    }

    static func spawn(name: String, _ body: @escaping @Sendable () -> Void) {
        let entry = Unmanaged.passRetained(Entry(body)).toOpaque()
        var thread = pthread_t()
        let result = pthread_create(
            &thread,
            nil,
            { raw in
                // pthread_create passes back the non-nil argument given below.
                let entry = Unmanaged<Entry>.fromOpaque(raw!).takeRetainedValue()
                entry.body()
                return nil
            },
            entry
        )
        precondition(result == 0, "pthread_create failed: \(result)")
        // Linux limits thread names to 15 bytes.
        _ = pthread_setname_np(thread, String(name.prefix(15)))
        pthread_detach(thread)
    }
}

import Foundation
import Synchronization

/// Runs a blocking call (a librdkafka metadata request) on a throwaway thread instead of the cooperative
/// pool, and stops waiting for it when the task is cancelled. A graceful shutdown cancels the watchdog and
/// the broker probe before it stops the gateway, one after the other: waiting out a metadata request to an
/// unreachable cluster (up to 5 s) delayed the drain, so the listener kept accepting for seconds after
/// SIGTERM. The abandoned thread finishes its request on its own; its answer is dropped.
enum DedicatedWork {
    static func value<T: Sendable>(ifCancelled fallback: T, _ body: @escaping @Sendable () -> T) async -> T {
        let answer = OneAnswer<T>()
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                guard answer.wait(continuation) else {
                    continuation.resume(returning: fallback)  // cancelled before it started
                    return
                }
                Thread { answer.give(body()) }.start()
            }
        } onCancel: {
            answer.give(fallback)
        }
    }
}

/// Hands the first of two racing answers (the work's, or the cancellation's fallback) to the waiting task,
/// exactly once.
private final class OneAnswer<T: Sendable>: Sendable {
    private enum State {
        case notWaiting
        case waiting(CheckedContinuation<T, Never>)
        case answered
    }

    private let state = Mutex(State.notWaiting)

    /// False when the answer came first (cancelled before waiting began).
    func wait(_ continuation: CheckedContinuation<T, Never>) -> Bool {
        self.state.withLock { state in
            guard case .notWaiting = state else { return false }
            state = .waiting(continuation)
            return true
        }
    }

    func give(_ value: T) {
        let waiting: CheckedContinuation<T, Never>? = self.state.withLock { state in
            defer { state = .answered }
            if case .waiting(let continuation) = state { return continuation }
            return nil
        }
        waiting?.resume(returning: value)
    }
}

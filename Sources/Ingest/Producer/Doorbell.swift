import CLinux

#if canImport(Glibc)
import Glibc
#endif

/// An eventfd the producer thread sleeps on. Event loops ring it when they hand it new work while it
/// sleeps, and librdkafka writes to it when delivery reports are waiting, so one `poll` covers both.
public final class Doorbell: Sendable {
    public let fileDescriptor: Int32

    public init() {
        let fd = eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
        precondition(fd >= 0, "eventfd failed: errno \(errno)")
        self.fileDescriptor = fd
    }

    deinit {
        close(self.fileDescriptor)
    }

    /// Wakes the sleeper (a counter increment; cheap, never blocks).
    public func ring() {
        var one: UInt64 = 1
        _ = withUnsafeBytes(of: &one) { write(self.fileDescriptor, $0.baseAddress, 8) }
    }

    /// Resets the bell; call before looking for work so that a ring after the look is never missed.
    public func reset() {
        var value: UInt64 = 0
        _ = withUnsafeMutableBytes(of: &value) { read(self.fileDescriptor, $0.baseAddress, 8) }
    }

    /// Sleeps until rung or until `timeoutMilliseconds` passes.
    public func wait(timeoutMilliseconds: Int32) {
        var descriptor = pollfd(fd: self.fileDescriptor, events: Int16(POLLIN), revents: 0)
        _ = poll(&descriptor, 1, timeoutMilliseconds)
    }
}

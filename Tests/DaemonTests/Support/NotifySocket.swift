import Foundation
import NIOConcurrencyHelpers

#if canImport(Glibc)
import Glibc
#endif

/// Plays systemd's side of `sd_notify`: a datagram socket at a temporary path that collects what the
/// daemon sends (`READY=1`, `WATCHDOG=1`, `STATUS=…`, `STOPPING=1`), and, like systemd's file descriptor
/// store, keeps the descriptors that come with a message (`FDSTORE=1`, SCM_RIGHTS).
final class NotifySocket: @unchecked Sendable {
    let path: String
    private let fd: Int32
    private let received = NIOLockedValueBox<[(message: String, fd: Int32)]>([])

    /// Descriptors received so far, with the message that carried each; the socket closes those not taken.
    var storedDescriptors: [(message: String, fd: Int32)] { self.received.withLockedValue { $0 } }

    /// Takes a received descriptor out of the store: the caller closes it.
    func takeDescriptor(_ fd: Int32) {
        self.received.withLockedValue { $0.removeAll { $0.fd == fd } }
    }

    init() throws {
        self.path = NSTemporaryDirectory() + "kcp-notify-\(UUID().uuidString.prefix(8)).sock"
        self.fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in self.path.utf8.enumerated() { raw[index] = byte }
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(self.fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard result == 0 else { throw TestWebSocketClient.ClientError.connectFailed(errno) }
        var timeout = timeval(tv_sec: 0, tv_usec: 200_000)
        setsockopt(self.fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit {
        close(self.fd)
        unlink(self.path)
        for stored in self.storedDescriptors { close(stored.fd) }
    }

    /// Every message that arrives within `seconds`.
    func receive(for seconds: Double) -> [String] {
        var messages: [String] = []
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let (message, descriptors) = self.receiveOne() {
                messages.append(message)
                self.received.withLockedValue { stored in
                    for descriptor in descriptors { stored.append((message, descriptor)) }
                }
            }
        }
        return messages
    }

    /// One datagram and the descriptors passed with it (SCM_RIGHTS), or nil after the 200 ms timeout.
    private func receiveOne() -> (String, [Int32])? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        // Room for a few descriptors: cmsghdr (16 bytes on 64-bit Linux) and up to 8 ints.
        var control = [UInt8](repeating: 0, count: 64)
        let headerSize = MemoryLayout<cmsghdr>.size
        return buffer.withUnsafeMutableBytes { data -> (String, [Int32])? in
            control.withUnsafeMutableBytes { controlBytes -> (String, [Int32])? in
                var vector = iovec(iov_base: data.baseAddress, iov_len: data.count)
                return withUnsafeMutablePointer(to: &vector) { vectorPointer -> (String, [Int32])? in
                    var header = msghdr()
                    header.msg_iov = vectorPointer
                    header.msg_iovlen = 1
                    header.msg_control = controlBytes.baseAddress
                    header.msg_controllen = controlBytes.count
                    let count = recvmsg(self.fd, &header, Int32(MSG_CMSG_CLOEXEC))
                    guard count > 0 else { return nil }
                    var descriptors: [Int32] = []
                    var offset = 0
                    while offset + headerSize <= header.msg_controllen {
                        let cmsg = controlBytes.load(fromByteOffset: offset, as: cmsghdr.self)
                        guard cmsg.cmsg_len >= headerSize else { break }
                        if cmsg.cmsg_level == SOL_SOCKET && cmsg.cmsg_type == Int32(SCM_RIGHTS) {
                            let fdCount = (Int(cmsg.cmsg_len) - headerSize) / MemoryLayout<Int32>.size
                            for index in 0..<fdCount {
                                descriptors.append(
                                    controlBytes.load(
                                        fromByteOffset: offset + headerSize + index * MemoryLayout<Int32>.size,
                                        as: Int32.self
                                    )
                                )
                            }
                        }
                        offset += (Int(cmsg.cmsg_len) + 7) & ~7
                    }
                    return (String(decoding: data[..<count], as: UTF8.self), descriptors)
                }
            }
        }
    }

    /// Messages until one satisfies `condition` or `seconds` pass.
    func receive(until seconds: Double, _ condition: ([String]) -> Bool) -> [String] {
        var messages: [String] = []
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline && !condition(messages) {
            messages += self.receive(for: 0.2)
        }
        return messages
    }
}

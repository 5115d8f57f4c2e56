import CSystemd
import Foundation
import Logging
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// The listening socket across restarts: taken from systemd at start (the socket unit's, or the daemon's
/// own from an earlier run, kept in systemd's file descriptor store), or bound here and a copy handed to
/// that store (`FDSTORE=1`, `FDNAME=listener`). While systemd holds a copy, the kernel socket outlives
/// the process: connections that arrive between the old process closing its copy and the new one
/// serving wait in the backlog instead of being refused.
struct ListenerStore {
    /// The daemon's own listener in the fd store (`FDNAME=`, then `LISTEN_FDNAMES=`).
    static let fdName = "listener"

    enum Source: String {
        /// `kafka-chat-producer.socket`: systemd owns the socket; it is not stored again.
        case socketUnit = "socket unit"
        /// The daemon's own listener from an earlier run, handed back by systemd.
        case fdStore = "fd store"
        /// Bound here (listen.host, listen.port) and offered to the fd store.
        case bound = "bound"
    }

    /// A listening socket for the gateway to serve.
    struct Listener {
        let fd: Int32
        let source: Source
        let address: SocketAddress
    }

    let notifier: SystemdNotifier
    let logger: Logger

    /// The socket to serve, or nil when NIO should bind `host:port` itself (outside a service manager:
    /// no `NOTIFY_SOCKET`, nothing passed).
    ///
    /// In order: the socket unit's socket (a stored one is then dropped); the stored one if it still has
    /// the configured address (otherwise it is dropped and the configured address bound); a new socket
    /// bound here and offered to the store.
    func open(host: String, port: Int, backlog: Int32) throws -> Listener? {
        let passed = Self.passedDescriptors()
        let stored = passed.filter { $0.name == Self.fdName }.map(\.fd)
        let unit = passed.filter { $0.name != Self.fdName }

        if let first = unit.first {
            for extra in unit.dropFirst() {
                self.logger.warning(
                    "systemd passed more than one socket: serving only the first",
                    metadata: ["ignored": "\(extra.name)"]
                )
                close(extra.fd)
            }
            guard let address = Self.listeningTCPAddress(first.fd) else {
                throw ConfigurationError(
                    key: "kafka-chat-producer.socket",
                    message: "the socket systemd passed (\(first.name)) is not a listening TCP socket (ListenStream=)"
                )
            }
            if !stored.isEmpty {
                // The socket unit was started since the daemon stored its own listener: the unit wins.
                for fd in stored { close(fd) }
                self.notifier.removeStoredFileDescriptors(name: Self.fdName)
                self.logger.notice("dropped the listener kept in systemd's fd store: the socket unit's is served")
            }
            self.logger.info(
                "serving on the socket passed by systemd (socket activation)",
                metadata: ["address": "\(address)", "fdName": "\(first.name)"]
            )
            return Listener(fd: first.fd, source: .socketUnit, address: address)
        }

        let underServiceManager = ProcessInfo.processInfo.environment["NOTIFY_SOCKET"] != nil
        if stored.isEmpty && !underServiceManager { return nil }
        let wanted = try SocketAddress.makeAddressResolvingHost(host, port: port)
        var taken: Listener?
        for fd in stored {
            if taken == nil, let address = Self.listeningTCPAddress(fd), Self.matches(address, wanted) {
                taken = Listener(fd: fd, source: .fdStore, address: address)
            } else {
                close(fd)
            }
        }
        if let taken {
            if stored.count > 1 {
                // FDSTOREREMOVE removes every fd of that name, so the one served is stored again.
                self.notifier.removeStoredFileDescriptors(name: Self.fdName)
                self.offer(taken.fd)
            }
            self.logger.info(
                "took the listening socket kept in systemd's fd store (restart without closing the port)",
                metadata: ["address": "\(taken.address)", "fdName": "\(Self.fdName)"]
            )
            return taken
        }
        if !stored.isEmpty {
            self.notifier.removeStoredFileDescriptors(name: Self.fdName)
            self.logger.notice(
                "the listening socket kept in systemd's fd store does not have listen.host/listen.port's address: dropped it, binding anew",
                metadata: ["configured": "\(wanted)"]
            )
        }
        guard underServiceManager else { return nil }
        let fd = try Self.bindListening(wanted, backlog: backlog)
        guard let address = Self.listeningTCPAddress(fd) else {
            close(fd)
            throw IOError(errnoCode: EINVAL, reason: "getsockname")
        }
        self.offer(fd)
        self.logger.info(
            "bound the listening socket and handed a copy to systemd's fd store for the next start",
            metadata: ["address": "\(address)", "fdName": "\(Self.fdName)"]
        )
        return Listener(fd: fd, source: .bound, address: address)
    }

    /// Hands a copy of `fd` to systemd's fd store. Whether systemd keeps it depends on
    /// `FileDescriptorStoreMax=`, which the daemon cannot see (systemd < 254 does not say; ≥ 254 sets
    /// `$FDSTORE`): with the store off, systemd drops the copy and a restart binds anew.
    private func offer(_ fd: Int32) {
        let result = self.notifier.storeFileDescriptor(fd, name: Self.fdName)
        let storeMax = ProcessInfo.processInfo.environment["FDSTORE"]
        if result < 0 {
            self.logger.debug(
                "could not offer the listening socket to systemd's fd store",
                metadata: ["error": "\(String(cString: strerror(-result)))"]
            )
        } else {
            self.logger.debug(
                "offered the listening socket to systemd's fd store (FDSTORE=1); kept only with FileDescriptorStoreMax=1 or more",
                metadata: ["FDSTORE": "\(storeMax ?? "unset")"]
            )
        }
    }

    // MARK: sockets

    /// The fds systemd passed (`LISTEN_FDS`, `LISTEN_FDNAMES`, `LISTEN_PID`), with their names; the
    /// variables are unset so children do not inherit them.
    private static func passedDescriptors() -> [(fd: Int32, name: String)] {
        var names: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
        let count = sd_listen_fds_with_names(1, &names)
        guard count > 0 else { return [] }
        defer {
            if let names {
                for index in 0..<Int(count) { free(names[index]) }
                free(names)
            }
        }
        return (0..<count).map { index in
            let name = names?[Int(index)].map { String(cString: $0) } ?? "unknown"
            return (SD_LISTEN_FDS_START + index, name)
        }
    }

    /// The local address of `fd` if it is a listening TCP socket (IPv4 or IPv6), else nil.
    static func listeningTCPAddress(_ fd: Int32) -> SocketAddress? {
        guard sd_is_socket_inet(fd, 0, Int32(SOCK_STREAM.rawValue), 1, 0) > 0 else { return nil }
        var protocolNumber: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &protocolNumber, &length) == 0,
            protocolNumber == Int32(IPPROTO_TCP)
        else { return nil }
        var storage = sockaddr_storage()
        var size = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let named = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &size) }
        }
        guard named == 0 else { return nil }
        switch Int32(storage.ss_family) {
        case AF_INET:
            return withUnsafeBytes(of: storage) { SocketAddress($0.load(as: sockaddr_in.self)) }
        case AF_INET6:
            return withUnsafeBytes(of: storage) { SocketAddress($0.load(as: sockaddr_in6.self)) }
        default:
            return nil
        }
    }

    /// Same family and IP, and the same port unless the configured one is 0 (any).
    static func matches(_ stored: SocketAddress, _ wanted: SocketAddress) -> Bool {
        stored.protocol == wanted.protocol && stored.ipAddress == wanted.ipAddress
            && (wanted.port == 0 || stored.port == wanted.port)
    }

    /// What NIO's `bind(host:port:)` does (SO_REUSEADDR, bind, listen), but the fd stays known.
    private static func bindListening(_ address: SocketAddress, backlog: Int32) throws -> Int32 {
        let fd = socket(address.protocol.rawValue, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw IOError(errnoCode: errno, reason: "socket") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        let bound = address.withSockAddr { bind(fd, $0, socklen_t($1)) }
        guard bound == 0 else {
            let code = errno
            close(fd)
            throw IOError(errnoCode: code, reason: "bind(descriptor:ptr:bytes:) failed: \(address)")
        }
        guard listen(fd, backlog) == 0 else {
            let code = errno
            close(fd)
            throw IOError(errnoCode: code, reason: "listen")
        }
        return fd
    }
}

import Atomics
import Foundation
import Kafka
import NIOConcurrencyHelpers
import Testing

#if canImport(Glibc)
import Glibc
#endif

extension IntegrationTests {
    /// The test plays systemd's file descriptor store: its notify socket keeps the descriptor the daemon
    /// sends with `FDSTORE=1` and hands it to the next process as fd 3 (`LISTEN_FDS=1`,
    /// `LISTEN_FDNAMES=listener`, `LISTEN_PID`), as systemd does on a restart.
    @Suite("systemd: restart with the listener in the fd store")
    struct FileDescriptorStore {
        @Test(
            "the daemon stores its own listener (FDSTORE=1, FDNAME=listener, backlog 4096); it outlives the process"
        )
        func storesListener() async throws {
            let broker = try MockCluster(brokers: 1)
            let notify = try NotifySocket()
            let daemon = try SpawnedDaemon(
                arguments: ["--bootstrap-servers", broker.bootstrapServers, "--host", "127.0.0.1", "--port", "0"],
                environment: ["NOTIFY_SOCKET": notify.path]
            )
            let messages = try await onThread {
                notify.receive(until: 20) { $0.contains { $0.contains("READY=1") } }
            }
            let stored = try #require(
                notify.storedDescriptors.first { $0.message.contains("FDSTORE=1") },
                "\(messages) \(daemon.log.suffix(1500))"
            )
            #expect(stored.message == "FDSTORE=1\nFDNAME=listener")
            #expect(notify.storedDescriptors.count == 1)
            #expect(Self.isListening(stored.fd))
            #expect(Self.localIPv4(stored.fd)?.host == "127.0.0.1")
            #expect(Self.backlog(stored.fd) == 4096)
            let port = try #require(Self.localIPv4(stored.fd)?.port)
            let listening = try #require(await daemon.logLine(containing: "[Gateway] listening"))
            #expect(listening.contains(":\(port)"), "\(listening)")
            #expect(await daemon.logLine(containing: "bound the listening socket and handed a copy") != nil)

            // Accepted before SIGTERM, its request only after the drain began: with the socket shared, the
            // answer is the WebSocket and at once 1001 (reconnect, the successor accepts), not a 503.
            let early = try TestWebSocketClient(port: port)
            #expect(await eventually { Self.queued(stored.fd) == 0 })
            daemon.signal(SIGTERM)
            #expect(await daemon.logLine(containing: "draining") != nil)
            let answer = try early.handshake(path: "/send-message/global")
            #expect(answer.status == 101, "\(answer.status) \(answer.body)")
            #expect(try early.receiveFrame().closeCode == 1001)
            try? early.sendClose(code: 1001)
            #expect(await daemon.waitForExit(seconds: 20) == 0, "\(daemon.log.suffix(1500))")
            // No process runs now, yet the port is open: the kernel queues the connection for the next one.
            let waiting = try TestWebSocketClient(port: port)
            #expect(Self.queued(stored.fd) == 1)
            _ = waiting
        }

        @Test("restarts while clients keep connecting and sending with acks: none refused, every ack in Kafka")
        func restartUnderLoad() async throws {
            let started = ContinuousClock.now
            let broker = try MockCluster(brokers: 1)
            let notify = try NotifySocket()
            let chat = uniqueChat("restart")
            let arguments = { (port: Int) in
                [
                    "--bootstrap-servers", broker.bootstrapServers, "--host", "127.0.0.1", "--port", "\(port)",
                    "--set", "shutdown.drain_timeout_seconds=10", "--set", "log.level=info",
                ]
            }
            let first = try SpawnedDaemon(arguments: arguments(0), environment: ["NOTIFY_SOCKET": notify.path])
            _ = try await onThread { notify.receive(until: 20) { $0.contains { $0.contains("READY=1") } } }
            let stored = try #require(
                notify.storedDescriptors.first { $0.message.contains("FDSTORE=1") },
                "\(first.log.suffix(1500))"
            )
            let port = try #require(Self.localIPv4(stored.fd)?.port)

            let load = RestartLoad(port: port, path: "/send-message/chat/\(chat)?ack=1")
            let clients = Task { await load.run(clients: 6) }
            try await Task.sleep(for: .milliseconds(1500))
            #expect(load.acked.withLockedValue { $0.count } > 0, "\(first.log.suffix(1500))")

            // Restart 1: the successor starts while the old process drains (both hold the socket for a while).
            load.phase.store(2, ordering: .relaxed)
            first.signal(SIGTERM)
            let second = try SpawnedDaemon(
                arguments: arguments(port),
                environment: ["NOTIFY_SOCKET": notify.path],
                passing: stored.fd,
                fdName: "listener"
            )
            let firstStatus = await first.waitForExit(seconds: 30)
            let took = await second.logLine(containing: "took the listening socket kept in systemd's fd store")
            #expect(took != nil, "\(second.log.suffix(1500))")
            let ackedBeforeSecond = load.acked.withLockedValue { $0.count }
            load.phase.store(3, ordering: .relaxed)
            try await Task.sleep(for: .milliseconds(1500))

            // Restart 2, in systemd's order: the old process exits before the new one starts; meanwhile
            // nothing accepts and connections wait in the backlog.
            load.phase.store(4, ordering: .relaxed)
            second.signal(SIGTERM)
            let secondStatus = await second.waitForExit(seconds: 30)
            let third = try SpawnedDaemon(
                arguments: arguments(port),
                environment: ["NOTIFY_SOCKET": notify.path],
                passing: stored.fd,
                fdName: "listener"
            )
            #expect(await third.logLine(containing: "took the listening socket kept in systemd's fd store") != nil)
            let ackedBeforeThird = load.acked.withLockedValue { $0.count }
            load.phase.store(5, ordering: .relaxed)
            try await Task.sleep(for: .milliseconds(1500))

            load.stop.store(true, ordering: .relaxed)
            await clients.value
            third.signal(SIGTERM)
            let thirdStatus = await third.waitForExit(seconds: 30)
            _ = try await onThread { notify.receive(for: 0.3) }

            let acked = load.acked.withLockedValue { $0 }
            let topic = "kafka.chat.\(chat)"
            let reader = try TopicReader(bootstrapServers: broker.bootstrapServers)
            let total = Int(try reader.recordCount(of: topic))
            let inKafka = Set(
                try reader.readRecords(of: topic, count: total, timeoutSeconds: 20).compactMap {
                    String(decoding: $0.value, as: UTF8.self).firstMatch(of: /"text":"([^"]+)"/).map { String($0.1) }
                }
            )
            let missing = acked.subtracting(inKafka)
            let refusals = load.refusals.withLockedValue { $0 }
            let seconds = ContinuousClock.now - started
            print(
                "RESTART fdstore: connections attempted=\(load.attempts.load(ordering: .relaxed)) refused=\(refusals.count) "
                    + "messages acked=\(acked.count) nacked=\(load.nacked.load(ordering: .relaxed)) "
                    + "inKafka=\(inKafka.count) ackedMissingFromKafka=\(missing.count) "
                    + "acked after restart 1=\(ackedBeforeThird - ackedBeforeSecond) after restart 2=\(acked.count - ackedBeforeThird) "
                    + "closedByServer=\(load.serverClosed.load(ordering: .relaxed)) "
                    + "exits=\(firstStatus.map(String.init) ?? "none"),\(secondStatus.map(String.init) ?? "none"),\(thirdStatus.map(String.init) ?? "none") "
                    + "in \(seconds)"
            )
            #expect(refusals.isEmpty, "\(refusals.prefix(10))")
            #expect(missing.isEmpty, "acked but not in Kafka: \(missing.sorted().prefix(10))")
            #expect(firstStatus == 0, "\(first.log.suffix(2000))")
            #expect(secondStatus == 0, "\(second.log.suffix(2000))")
            #expect(thirdStatus == 0, "\(third.log.suffix(2000))")
            #expect(ackedBeforeThird > ackedBeforeSecond, "the second daemon served acks")
            #expect(acked.count > ackedBeforeThird, "the third daemon served acks")
            #expect(load.nacked.load(ordering: .relaxed) == 0)
            // Taken from the store, the listener is not stored again.
            #expect(notify.storedDescriptors.filter { $0.message.contains("FDSTORE=1") }.count == 1)
            print("--- first daemon\n\(first.log)--- second daemon\n\(second.log)--- third daemon\n\(third.log)---")
        }

        @Test(
            "listen.host changed since the socket was stored: it is dropped (FDSTOREREMOVE=1), the new one bound and stored"
        )
        func storedSocketWithAnotherAddress() async throws {
            let broker = try MockCluster(brokers: 1)
            let notify = try NotifySocket()
            let stale = try Self.listeningSocket(host: "127.0.0.1")
            defer { close(stale) }
            let daemon = try SpawnedDaemon(
                arguments: ["--bootstrap-servers", broker.bootstrapServers, "--host", "127.0.0.2", "--port", "0"],
                environment: ["NOTIFY_SOCKET": notify.path],
                passing: stale,
                fdName: "listener"
            )
            let messages = try await onThread {
                notify.receive(until: 20) { $0.contains { $0.contains("READY=1") } }
            }
            let removal = try #require(
                messages.firstIndex(of: "FDSTOREREMOVE=1\nFDNAME=listener"),
                "\(messages) \(daemon.log.suffix(1500))"
            )
            let storing = try #require(messages.firstIndex { $0.hasPrefix("FDSTORE=1") })
            #expect(removal < storing, "removed before the new one is stored (FileDescriptorStoreMax=1)")
            let stored = try #require(notify.storedDescriptors.first)
            #expect(Self.isListening(stored.fd))
            #expect(Self.localIPv4(stored.fd)?.host == "127.0.0.2")
            #expect(await daemon.logLine(containing: "does not have listen.host/listen.port's address") != nil)
            daemon.signal(SIGTERM)
            #expect(await daemon.waitForExit(seconds: 20) == 0, "\(daemon.log.suffix(1500))")
        }

        @Test("the socket unit's socket is served with its backlog, not stored; a stored listener beside it is dropped")
        func socketUnitWins() async throws {
            let broker = try MockCluster(brokers: 1)
            let notify = try NotifySocket()
            let unit = try Self.listeningSocket(host: "127.0.0.1", backlog: 2048)  // Backlog=2048
            let stored = try Self.listeningSocket(host: "127.0.0.1")
            defer {
                close(unit)
                close(stored)
            }
            let port = try #require(Self.localIPv4(unit)?.port)
            let daemon = try SpawnedDaemon(
                arguments: ["--bootstrap-servers", broker.bootstrapServers, "--host", "127.0.0.1", "--port", "1"],
                environment: ["NOTIFY_SOCKET": notify.path],
                passing: [(unit, "kafka-chat-producer.socket"), (stored, "listener")]
            )
            let messages = try await onThread {
                notify.receive(until: 20) { $0.contains { $0.contains("READY=1") } }
            }
            #expect(messages.contains("FDSTOREREMOVE=1\nFDNAME=listener"), "\(messages) \(daemon.log.suffix(1500))")
            #expect(!messages.contains { $0.hasPrefix("FDSTORE=1") })
            #expect(notify.storedDescriptors.isEmpty)
            #expect(
                await daemon.logLine(containing: "serving on the socket passed by systemd (socket activation)") != nil
            )
            let reply = try await onThread { () -> String in
                let client = try TestWebSocketClient.connect(port: port, path: "/send-message/global?ack=1")
                try client.sendText(#"{"sender":"a","text":"unit","tag":"t"}"#)
                return try client.receiveText()
            }
            #expect(reply.hasPrefix(#"{"ack":1,"#))
            #expect(Self.backlog(unit) == 2048, "the socket unit's Backlog= is kept")
            daemon.signal(SIGTERM)
            #expect(await daemon.waitForExit(seconds: 20) == 0, "\(daemon.log.suffix(1500))")
        }

        @Test("a passed socket that is not a listening TCP socket stops the start with a message")
        func notATCPListener() async throws {
            let datagram = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
            defer { close(datagram) }
            let daemon = try SpawnedDaemon(
                arguments: ["--embedded-broker", "--host", "127.0.0.1", "--port", "0"],
                passing: [(datagram, "kafka-chat-producer.socket")]
            )
            #expect(await daemon.waitForExit(seconds: 20) == 1)
            #expect(daemon.log.contains("is not a listening TCP socket"), "\(daemon.log.suffix(1500))")
        }

        // MARK: the socket, as the kernel sees it

        /// A TCP socket listening on `host`, port 0, as systemd would hand it over.
        static func listeningSocket(host: String, backlog: Int32 = 1024) throws -> Int32 {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr(host)
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            guard bound == 0, listen(fd, backlog) == 0 else {
                close(fd)
                throw TestWebSocketClient.ClientError.connectFailed(errno)
            }
            return fd
        }

        static func isListening(_ fd: Int32) -> Bool {
            var value: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &value, &length) == 0 && value == 1
        }

        static func localIPv4(_ fd: Int32) -> (host: String, port: Int)? {
            var address = sockaddr_in()
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let named = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
            }
            guard named == 0, address.sin_family == sa_family_t(AF_INET) else { return nil }
            return (String(cString: inet_ntoa(address.sin_addr)), Int(UInt16(bigEndian: address.sin_port)))
        }

        /// For a listening socket, Linux reports the backlog in `tcpi_sacked` and the connections waiting
        /// to be accepted in `tcpi_unacked` (what `ss -lt` shows as Send-Q and Recv-Q).
        static func tcpInfo(_ fd: Int32) -> tcp_info? {
            var info = tcp_info()
            var length = socklen_t(MemoryLayout<tcp_info>.size)
            return getsockopt(fd, Int32(IPPROTO_TCP), TCP_INFO, &info, &length) == 0 ? info : nil
        }

        static func backlog(_ fd: Int32) -> Int? { tcpInfo(fd).map { Int($0.tcpi_sacked) } }
        static func queued(_ fd: Int32) -> Int? { tcpInfo(fd).map { Int($0.tcpi_unacked) } }
    }
}

/// Clients that keep opening connections and sending with acks: each connection sends batches of five
/// messages and waits for their replies; some connections stop after three batches, others run until the
/// server closes them. A failed connect or a refused handshake is a refusal; a connection the server
/// closes after the handshake (1001 at a restart) is not — its client reconnects.
final class RestartLoad: Sendable {
    let port: Int
    let path: String
    let stop = ManagedAtomic<Bool>(false)
    /// What the test is doing (for refusals): 1 first daemon, 2 restart 1, 3 second, 4 restart 2, 5 third.
    let phase = ManagedAtomic<Int>(1)
    private let started = ContinuousClock.now
    let attempts = ManagedAtomic<Int>(0)
    let nacked = ManagedAtomic<Int>(0)
    let serverClosed = ManagedAtomic<Int>(0)
    let acked = NIOLockedValueBox<Set<String>>([])
    let refusals = NIOLockedValueBox<[String]>([])

    init(port: Int, path: String) {
        self.port = port
        self.path = path
    }

    func run(clients: Int) async {
        await withTaskGroup(of: Void.self) { group in
            for client in 0..<clients {
                group.addTask {
                    _ = try? await onThread { self.client(client, batchesPerConnection: client < 4 ? 1 : nil) }
                }
            }
        }
    }

    private func client(_ client: Int, batchesPerConnection: Int?) {
        var sequence = 0
        while !self.stop.load(ordering: .relaxed) {
            self.attempts.wrappingIncrement(ordering: .relaxed)
            let socket: TestWebSocketClient
            do {
                socket = try TestWebSocketClient.connect(port: self.port, path: self.path)
            } catch {
                let at = ContinuousClock.now - self.started
                let phase = self.phase.load(ordering: .relaxed)
                self.refusals.withLockedValue { $0.append("client \(client) at \(at) in phase \(phase): \(error)") }
                Thread.sleep(forTimeInterval: 0.05)
                continue
            }
            var batches = 0
            connection: while !self.stop.load(ordering: .relaxed) {
                var ids: [String] = []
                do {
                    for _ in 0..<5 {
                        sequence += 1
                        let id = "c\(client)-\(sequence)"
                        ids.append(id)
                        try socket.sendText(#"{"id":"\#(id)","sender":"c\#(client)","text":"\#(id)","tag":"restart"}"#)
                    }
                    for _ in ids {
                        let reply = try socket.receiveText()
                        if let match = reply.firstMatch(of: /^\{"ack":"([^"]+)"/) {
                            self.acked.withLockedValue { _ = $0.insert(String(match.1)) }
                        } else if reply.hasPrefix(#"{"nack""#) {
                            self.nacked.wrappingIncrement(ordering: .relaxed)
                        }
                    }
                } catch {
                    // Closed by the server (1001 when it restarts): the unacked messages are the client's to resend.
                    self.serverClosed.wrappingIncrement(ordering: .relaxed)
                    break connection
                }
                batches += 1
                if let batchesPerConnection, batches >= batchesPerConnection {
                    try? socket.sendClose(code: 1000)
                    break connection
                }
            }
        }
    }
}

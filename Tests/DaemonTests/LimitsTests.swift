import Atomics
import Foundation
import Kafka
import Logging
import Testing

#if canImport(Glibc)
import Glibc
#endif

extension IntegrationTests {
    /// Every hardening limit on a live daemon: the exact status or close code and reason a client gets,
    /// the counter that records it, and that the other connections carry on.
    @Suite("hardening limits")
    struct Limits {
        typealias Client = TestWebSocketClient

        static func request(_ port: Int, _ path: String, host: String = "127.0.0.1") throws -> Client.HTTPResponse {
            try Client(port: port, host: host).handshake(path: path)
        }

        /// The `code` of a JSON error body.
        static func errorCode(_ body: String) -> String? {
            let object = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
            return (object?["error"] as? [String: Any])?["code"] as? String
        }

        static func rejections(_ daemon: RunningDaemon, _ reason: String) -> Int {
            daemon.daemon.metrics.connections.rejections().first { $0.reason.label == reason }?.count ?? -1
        }

        static func closes(_ daemon: RunningDaemon, _ reason: String) -> Int {
            daemon.daemon.metrics.connections.closes().first { $0.reason.label == reason }?.count ?? -1
        }

        static func message(_ text: String, id: String) -> String {
            #"{"sender":"s","text":"\#(text)","tag":"t","id":"\#(id)"}"#
        }

        /// Sends one ack-mode message and waits for its ack: proof that a connection still works.
        static func roundTrip(_ client: Client, id: String) throws -> Bool {
            try client.sendText(Self.message("still here", id: id))
            return try client.receiveText().hasPrefix(#"{"ack":"\#(id)""#)
        }

        static func seconds(since start: ContinuousClock.Instant) -> Double {
            let elapsed = ContinuousClock.now - start
            return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        }

        /// An IPv4 address of this machine that is not loopback, so a test can be a client the per-IP
        /// limit counts (loopback peers are exempt); nil on a machine without one.
        static func nonLoopbackIPv4() -> String? {
            var list: UnsafeMutablePointer<ifaddrs>?
            guard getifaddrs(&list) == 0 else { return nil }
            defer { freeifaddrs(list) }
            var entry = list
            while let current = entry {
                defer { entry = current.pointee.ifa_next }
                guard let address = current.pointee.ifa_addr, address.pointee.sa_family == sa_family_t(AF_INET) else {
                    continue
                }
                let ipv4 = address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr }
                guard UInt32(bigEndian: ipv4.s_addr) >> 24 != 127 else { continue }
                var text = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
                var copy = ipv4
                guard inet_ntop(AF_INET, &copy, &text, socklen_t(text.count)) != nil else { continue }
                return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            }
            return nil
        }

        // MARK: message size and fragments (kept from before)

        @Test("more fragments than websocket.max_fragments, or a larger message, close with 1009 and a reason")
        func messageLimits() async throws {
            let daemon = try await RunningDaemon.start { $0.maxFragments = 4 }
            let port = daemon.port
            try await onThread {
                let healthy = try Client.connect(port: port, path: "/send-message/global?ack=1")
                let fragmented = try Client.connect(port: port, path: "/send-message/global")
                try fragmented.sendFrame(opcode: 1, payload: Array(#"{"sender":"#.utf8), fin: false)
                for _ in 0..<4 { try fragmented.sendFrame(opcode: 0, payload: Array(" ".utf8), fin: false) }
                let tooMany = try fragmented.receiveClose()
                #expect(tooMany.code == 1009)
                #expect(tooMany.reason == "message has more than 4 fragments")

                let large = try Client.connect(port: port, path: "/send-message/global")
                try large.sendText(String(repeating: " ", count: 65_537))
                let tooLarge = try large.receiveClose()
                #expect(tooLarge.code == 1009)
                #expect(tooLarge.reason == "message is larger than 65536 bytes")
                #expect(try Self.roundTrip(healthy, id: "h"))
            }
            #expect(Self.closes(daemon, "message_too_big") == 2)
            try await daemon.stop()
        }

        // MARK: connection counts

        @Test(
            "limits.max_connections: the next handshake gets 503 too_many_connections with Retry-After; a freed slot is reused"
        )
        func maxConnections() async throws {
            let daemon = try await RunningDaemon.start { $0.maxConnections = 2 }
            let port = daemon.port
            let first = try await onThread { () -> Client in
                let first = try Client.connect(port: port, path: "/send-message/global?ack=1")
                let second = try Client.connect(port: port, path: "/send-message/chat/\(uniqueChat("max"))")
                let refused = try Self.request(port, "/send-message/global")
                #expect(refused.status == 503)
                #expect(refused.header("Retry-After") == "5")
                #expect(Self.errorCode(refused.body) == "too_many_connections")
                #expect(refused.body.contains("maximum of 2"))
                // Plain HTTP is not a WebSocket connection: /health still answers.
                #expect(try Client(port: port).handshake(path: "/health", headers: []).status == 200)
                #expect(try Self.roundTrip(first, id: "a1"))
                try second.sendClose(code: 1000)
                #expect(second.waitForEOF())
                return first
            }
            // The closed connection's slot is free again.
            #expect(
                await eventually {
                    (try? await onThread { try Self.request(port, "/send-message/global").status }) == 101
                }
            )
            #expect(try await onThread { try Self.roundTrip(first, id: "a2") })
            #expect(Self.rejections(daemon, "too_many_connections") == 1)
            try await daemon.stop()
        }

        @Test(
            "limits.max_connections_per_ip: the client over its share gets 429 with Retry-After; other clients and loopback carry on"
        )
        func maxConnectionsPerIP() async throws {
            guard let address = Self.nonLoopbackIPv4() else {
                print("limits: no non-loopback IPv4 address on this machine; per-IP limit only unit-tested")
                return
            }
            let daemon = try await RunningDaemon.start {
                $0.listenHost = "0.0.0.0"
                $0.maxConnectionsPerIP = 2
            }
            let port = daemon.port
            try await onThread {
                let first = try Client.connect(port: port, path: "/send-message/global?ack=1", host: address)
                var second: Client? = try Client.connect(port: port, path: "/send-message/global", host: address)
                let refused = try Self.request(port, "/send-message/global", host: address)
                #expect(refused.status == 429)
                #expect(refused.header("Retry-After") == "10")
                #expect(Self.errorCode(refused.body) == "too_many_connections_per_ip")
                // Loopback peers (this machine, e.g. a local proxy) are not counted per IP.
                let local = try (0..<3).map { _ in try Client.connect(port: port, path: "/send-message/global?ack=1") }
                #expect(try Self.roundTrip(local[2], id: "l"))
                #expect(try Self.roundTrip(first, id: "f"))
                try second!.sendClose(code: 1000)
                #expect(second!.waitForEOF())
                second = nil
            }
            #expect(
                await eventually {
                    (try? await onThread { try Self.request(port, "/send-message/global", host: address).status })
                        == 101
                }
            )
            #expect(Self.rejections(daemon, "too_many_connections_per_ip") == 1)
            try await daemon.stop()
        }

        // MARK: rates

        @Test(
            "limits.messages_per_second: a fast client is slowed down by backpressure, not closed; others are not slowed"
        )
        func rateBackpressure() async throws {
            let daemon = try await RunningDaemon.start {
                $0.messagesPerSecond = 100
                $0.burstSeconds = 0.1
                $0.rateViolationCloseSeconds = 0
            }
            let port = daemon.port
            let (elapsed, otherElapsed) = try await onThread { () -> (Double, Double) in
                let fast = try Client.connect(port: port, path: "/send-message/global?ack=1")
                let other = try Client.connect(port: port, path: "/send-message/global?ack=1")
                let start = ContinuousClock.now
                for index in 0..<60 { try fast.sendText(Self.message("m", id: "f\(index)")) }
                // Meanwhile another connection sends a few messages: they are acked at once.
                let otherStart = ContinuousClock.now
                for index in 0..<5 { #expect(try Self.roundTrip(other, id: "o\(index)")) }
                let otherElapsed = Self.seconds(since: otherStart)
                var acks = 0
                while acks < 60 {
                    if try fast.receiveText().hasPrefix(#"{"ack":"f"#) { acks += 1 }
                }
                let elapsed = Self.seconds(since: start)
                #expect(try Self.roundTrip(fast, id: "last"))
                return (elapsed, otherElapsed)
            }
            // 10 messages of burst, then 100/s: the last of 60 cannot be accepted before 0.5 s.
            #expect(elapsed >= 0.45, "60 messages at 100/s with a burst of 10 took only \(elapsed) s")
            #expect(elapsed < 5)
            #expect(otherElapsed < 0.4, "the other connection's 5 round trips took \(otherElapsed) s")
            #expect(daemon.daemon.metrics.connections.rateLimitPauses > 0)
            #expect(Self.closes(daemon, "rate_limited") == 0)
            #expect(try daemon.values(in: "kafka.chat.global", expecting: 66).count == 66)
            try await daemon.stop()
        }

        @Test(
            "limits.rate_violation_close_seconds: a client that keeps exceeding gets 1008 with a reason; a polite one stays"
        )
        func rateViolationClose() async throws {
            let daemon = try await RunningDaemon.start {
                $0.messagesPerSecond = 50
                $0.burstSeconds = 0.1
                $0.rateViolationCloseSeconds = 1
            }
            let port = daemon.port
            let flooder = try await onThread { try Client.connect(port: port, path: "/send-message/global") }
            let polite = try await onThread { try Client.connect(port: port, path: "/send-message/global?ack=1") }
            let stop = ManagedAtomic(false)
            let start = ContinuousClock.now
            let flood = Task {
                try? await onThread {
                    var index = 0
                    while !stop.load(ordering: .relaxed) {
                        try flooder.sendText(Self.message("flood", id: "x\(index)"))
                        index += 1
                    }
                }
            }
            // The polite client sends 20 messages a second, well below the limit, all through.
            let politeRun = Task {
                try await onThread { () -> Bool in
                    var ok = true
                    for index in 0..<30 {
                        ok = try Self.roundTrip(polite, id: "p\(index)") && ok
                        usleep(50_000)
                    }
                    return ok
                }
            }
            let close = try await onThread { try flooder.receiveClose() }
            let closedAfter = Self.seconds(since: start)
            stop.store(true, ordering: .relaxed)
            await flood.value
            #expect(close.code == 1008)
            #expect(
                close.reason.hasPrefix("rate limit exceeded for more than 1.0 seconds: at most 50 messages/s"),
                "\(close.reason)"
            )
            // Throttled from about 0.1 s on; closed once that lasted a second.
            #expect(closedAfter >= 1.0 && closedAfter < 4, "closed after \(closedAfter) s")
            #expect(try await politeRun.value)
            #expect(Self.closes(daemon, "rate_limited") == 1)
            try await daemon.stop()
        }

        // MARK: timeouts

        @Test(
            "limits.handshake_timeout_seconds: trickled, silent and idle keep-alive connections get 408 and are closed; upgraded ones are not"
        )
        func handshakeTimeout() async throws {
            let daemon = try await RunningDaemon.start { $0.handshakeTimeoutSeconds = 0.5 }
            let port = daemon.port
            try await onThread {
                let upgraded = try Client.connect(port: port, path: "/send-message/global?ack=1")

                // Headers trickled one byte every 100 ms never make a request.
                let trickler = try Client(port: port)
                let request = Array(
                    "GET /send-message/global HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n".utf8
                )
                let start = ContinuousClock.now
                for byte in request.prefix(3) {
                    try trickler.send([byte])
                    usleep(100_000)
                }
                let timedOut = try trickler.readHTTPResponse()
                let elapsed = Self.seconds(since: start)
                #expect(timedOut.status == 408)
                #expect(Self.errorCode(timedOut.body) == "handshake_timeout")
                #expect(timedOut.header("Connection") == "close")
                #expect(trickler.waitForEOF())
                #expect(elapsed >= 0.45 && elapsed < 2, "408 after \(elapsed) s")

                // A connection that sends nothing at all.
                let silent = try Client(port: port)
                #expect(try silent.readHTTPResponse().status == 408)
                #expect(silent.waitForEOF())

                // A keep-alive connection is answered, then closed once it stays idle.
                let keepAlive = try Client(port: port)
                #expect(try keepAlive.handshake(path: "/health", headers: []).status == 200)
                #expect(try keepAlive.readHTTPResponse().status == 408)
                #expect(keepAlive.waitForEOF())

                // The WebSocket, idle longer than the handshake timeout meanwhile, is untouched.
                #expect(try Self.roundTrip(upgraded, id: "u"))
                _ = try Client.connect(port: port, path: "/send-message/global")
            }
            #expect(Self.rejections(daemon, "handshake_timeout") == 3)
            try await daemon.stop()
        }

        @Test("websocket.idle_timeout_seconds: a client that answers pings stays; a silent one gets 1001 with a reason")
        func idleTimeout() async throws {
            let daemon = try await RunningDaemon.start {
                $0.idleTimeoutSeconds = 1.5
                $0.pingIntervalSeconds = 0.4
            }
            let port = daemon.port
            let responsive = try await onThread { try Client.connect(port: port, path: "/send-message/global?ack=1") }
            let silent = try await onThread { try Client.connect(port: port, path: "/send-message/global") }
            let start = ContinuousClock.now

            // The responsive client only answers pings (as every WebSocket library does), for 3 s.
            let answering = Task {
                try await onThread { () -> Int in
                    var pings = 0
                    while Self.seconds(since: start) < 3 {
                        guard let frame = try? responsive.receiveFrame() else { continue }
                        if frame.opcode == 9 {
                            pings += 1
                            try responsive.sendFrame(opcode: 10, payload: frame.payload)
                        }
                    }
                    return pings
                }
            }
            // The silent client reads but never answers.
            let (pings, close, closedAfter) = try await onThread {
                () -> (Int, (code: UInt16?, reason: String), Double) in
                var pings = 0
                while true {
                    let frame = try silent.receiveFrame()
                    if frame.opcode == 9 { pings += 1 }
                    if frame.opcode == 8 {
                        return (pings, (frame.closeCode, frame.closeReason), Self.seconds(since: start))
                    }
                }
            }
            #expect(close.code == 1001)
            #expect(close.reason == "idle timeout: nothing received for 1.5 seconds")
            #expect(pings >= 2)
            #expect(closedAfter >= 1.5 && closedAfter < 3, "closed after \(closedAfter) s")
            // It does not answer our close either: the socket goes after websocket.close_timeout_seconds.
            #expect(try await onThread { silent.waitForEOF() })

            let responsivePings = try await answering.value
            #expect(responsivePings >= 4)
            #expect(try await onThread { try Self.roundTrip(responsive, id: "alive") })
            #expect(Self.closes(daemon, "idle_timeout") == 1)
            let samples = try await Metrics.scrape(port).samples
            #expect(samples["kcp_connections_closed_total{reason=\"idle_timeout\"}"] == 1)
            try await daemon.stop()
        }

        @Test("limits.overload_close_seconds: a connection stuck behind Kafka gets 1013; one that is not stuck stays")
        func overloadClose() async throws {
            let stuckChat = uniqueChat("stuck")
            let otherChat = uniqueChat("other")
            let daemon = try await RunningDaemon.start {
                $0.ringBytes = 1 << 16
                $0.maxMessageBytes = 4096
                $0.queueBufferingMaxMessages = 100
                $0.messageTimeoutMilliseconds = 120_000
                $0.overloadCloseSeconds = 1
            }
            daemon.broker.setAllBrokers(up: false)
            let port = daemon.port
            let stuck = try await onThread { try Client.connect(port: port, path: "/send-message/chat/\(stuckChat)") }
            let other = try await onThread {
                try Client.connect(port: port, path: "/send-message/chat/\(otherChat)?ack=1")
            }
            try await onThread {
                for index in 0..<3 { try other.sendText(Self.message("queued", id: "o\(index)")) }
            }
            let stop = ManagedAtomic(false)
            let payload = String(repeating: "x", count: 400)
            let flood = Task {
                try? await onThread {
                    while !stop.load(ordering: .relaxed) { try stuck.sendText(Self.message(payload, id: "s")) }
                }
            }
            #expect(await eventually(seconds: 20) { daemon.counters.backpressurePauses > 0 })
            let blockedAt = ContinuousClock.now
            let close = try await onThread { try stuck.receiveClose() }
            let closedAfter = Self.seconds(since: blockedAt)
            stop.store(true, ordering: .relaxed)
            await flood.value
            #expect(close.code == 1013)
            #expect(close.reason == "overloaded: no message could be queued for 1.0 seconds; try again later")
            #expect(closedAfter >= 0.5 && closedAfter < 5, "closed \(closedAfter) s after blocking")
            #expect(Self.closes(daemon, "overloaded") == 1)

            // The other connection was never blocked: still open, and its messages arrive once Kafka is back.
            daemon.broker.setAllBrokers(up: true)
            try await onThread {
                var acks = 0
                while acks < 3 { if try other.receiveText().hasPrefix(#"{"ack":"o"#) { acks += 1 } }
                #expect(try Self.roundTrip(other, id: "after"))
            }
            // Whatever the stuck client had got accepted is delivered too: nothing accepted is lost.
            #expect(await eventually(seconds: 60) { daemon.counters.delivered == daemon.counters.accepted })
            try await daemon.stop()
            #expect(daemon.counters.failed == 0)
        }

        // MARK: topics

        @Test("topics.chat_pattern and topics.allowed_chats: other chats get 403 chat_not_allowed; global always works")
        func chatPolicy() async throws {
            let daemon = try await RunningDaemon.start {
                $0.chatPattern = "[a-z]+"
                $0.allowedChats = "alpha,beta,Gamma"
            }
            let port = daemon.port
            try await onThread {
                let alpha = try Client.connect(port: port, path: "/send-message/chat/alpha?ack=1")
                let pattern = try Self.request(port, "/send-message/chat/Gamma")
                #expect(pattern.status == 403)
                #expect(Self.errorCode(pattern.body) == "chat_not_allowed")
                #expect(pattern.body.contains("does not match the pattern"))
                let unlisted = try Self.request(port, "/send-message/chat/delta")
                #expect(unlisted.status == 403)
                #expect(Self.errorCode(unlisted.body) == "chat_not_allowed")
                #expect(unlisted.body.contains("not open on this server"))
                // Illegal names still get the 400 of the topic-name rules first.
                #expect(try Self.request(port, "/send-message/chat/a%20b").status == 400)
                #expect(try Self.request(port, "/send-message/global").status == 101)
                #expect(try Self.roundTrip(alpha, id: "a"))
            }
            #expect(Self.rejections(daemon, "chat_not_allowed") == 2)
            try await daemon.stop()
        }

        @Test(
            "topics.max_topics: a new chat beyond it gets 503 too_many_topics; existing chats and freed rings are fine"
        )
        func maxTopics() async throws {
            let chats = (0..<3).map { _ in uniqueChat("topics") }
            let daemon = try await RunningDaemon.start {
                $0.maxTopics = 2
                $0.idleRingSeconds = 0
            }
            let port = daemon.port
            let first = try await onThread { () -> Client in
                let first = try Client.connect(port: port, path: "/send-message/chat/\(chats[0])?ack=1")
                var second: Client? = try Client.connect(port: port, path: "/send-message/chat/\(chats[1])")
                let refused = try Self.request(port, "/send-message/chat/\(chats[2])")
                #expect(refused.status == 503)
                #expect(refused.header("Retry-After") == "5")
                #expect(Self.errorCode(refused.body) == "too_many_topics")
                // A chat that has a ring already takes no new one.
                _ = try Client.connect(port: port, path: "/send-message/chat/\(chats[0])")
                try second!.sendClose(code: 1000)
                #expect(second!.waitForEOF())
                second = nil
                return first
            }
            #expect(
                await eventually {
                    (try? await onThread { try Self.request(port, "/send-message/chat/\(chats[2])").status }) == 101
                }
            )
            #expect(try await onThread { try Self.roundTrip(first, id: "f") })
            #expect(Self.rejections(daemon, "too_many_topics") == 1)
            try await daemon.stop()
        }

        @Test(
            "topics.require_existing: only chats whose topic exists are served, 404 unknown_chat otherwise, and nothing is auto-created"
        )
        func requireExisting() async throws {
            let existing = uniqueChat("exists")
            let missing = uniqueChat("missing")
            let later = uniqueChat("later")
            let daemon = try await RunningDaemon.start(topics: ["kafka.chat.\(existing)"]) {
                $0.requireExistingTopics = true
                $0.topicExistenceCacheSeconds = 0.5
            }
            let port = daemon.port
            try await onThread {
                let client = try Client.connect(port: port, path: "/send-message/chat/\(existing)?ack=1")
                #expect(try Self.roundTrip(client, id: "e"))
                let unknown = try Self.request(port, "/send-message/chat/\(missing)")
                #expect(unknown.status == 404)
                #expect(Self.errorCode(unknown.body) == "unknown_chat")
                #expect(unknown.body.contains("kafka.chat.\(missing)"))
                // The global topic is no exception: it too must exist.
                #expect(try Self.request(port, "/send-message/global").status == 404)
                #expect(try Self.request(port, "/send-message/chat/\(later)").status == 404)
                #expect(try Self.roundTrip(client, id: "e2"))
            }
            // Looking for the chats created no topic in the cluster.
            let producer = try KafkaProducer(
                configuration: KafkaConfiguration([("bootstrap.servers", daemon.broker.bootstrapServers)]),
                logger: Logger(label: "test")
            )
            let names = try #require(
                try await onThread { producer.topicNames(withPrefix: "kafka.chat.", timeoutMilliseconds: 5000) }
            )
            #expect(names.contains("kafka.chat.\(existing)"))
            #expect(!names.contains("kafka.chat.\(missing)") && !names.contains("kafka.chat.\(later)"))

            // A topic created afterwards is served once the cached list is older than its TTL.
            try daemon.broker.createTopic("kafka.chat.\(later)", partitions: 1)
            #expect(
                await eventually(seconds: 5) {
                    (try? await onThread { try Self.request(port, "/send-message/chat/\(later)").status }) == 101
                }
            )
            #expect(Self.rejections(daemon, "unknown_chat") >= 3)
            try await daemon.stop()
        }
    }
}

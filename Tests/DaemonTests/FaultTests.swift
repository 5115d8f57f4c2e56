import Atomics
import Foundation
import Kafka
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Faults the daemon must survive without losing a message. Each test prints a `FAULT …` line with its
/// counts (the issue's closing note quotes them).
extension IntegrationTests {
    @Suite("faults survived")
    struct Faults {
        @Test(
            "broker down 30 s under load: /ready 503 and back, backpressure, bounded memory, every accepted message delivered"
        )
        func brokerDownThirtySeconds() async throws {
            // Under a sanitizer the in-process clients and daemon run several times slower, and 256 KiB
            // rings would not fill within the 30 s outage; 32 KiB rings (with librdkafka's 2 000-message
            // queue) do, so backpressure is exercised either way.
            let ringBytes = ProcessInfo.processInfo.environment["KCP_SANITIZER"] == nil ? 1 << 18 : 1 << 15
            let daemon = try await RunningDaemon.start {
                $0.ringBytes = ringBytes
                $0.budgetBytes = 4 << 20
                $0.queueBufferingMaxMessages = 2000
                $0.messageTimeoutMilliseconds = 180_000
                $0.brokerCheckSeconds = 0.5
            }
            let port = daemon.port
            #expect(try await eventually { try await Metrics.ready(port).status == 200 })

            // 8 clients over 4 chats, sending as fast as the daemon lets them until told to stop.
            let chats = (0..<4).map { _ in uniqueChat("outage") }
            let stop = ManagedAtomic<Bool>(false)
            let sent = ManagedAtomic<Int>(0)
            // Connected before the flood starts: a handshake queued behind flooding clients can take longer
            // than the test client's 10 s receive timeout when the daemon runs under a sanitizer.
            let sockets = try await onThread {
                try (0..<8).map { client in
                    try TestWebSocketClient.connect(port: port, path: "/send-message/chat/\(chats[client % 4])")
                }
            }
            let senders = Task {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for client in 0..<8 {
                        let socket = sockets[client]
                        group.addTask {
                            try await onThread {
                                var index = 0
                                while !stop.load(ordering: .relaxed) {
                                    try socket.sendText(
                                        #"{"sender":"c\#(client)","text":"\#(index) outage load","tag":"t"}"#
                                    )
                                    sent.wrappingIncrement(ordering: .relaxed)
                                    index += 1
                                }
                                try socket.sendClose(code: 1000)
                                _ = try? socket.receiveClose()
                            }
                        }
                    }
                    try await group.waitForAll()
                }
            }
            try await Task.sleep(for: .seconds(3))
            let beforeOutage = daemon.counters

            daemon.broker.setAllBrokers(up: false)
            let outageStart = ContinuousClock.now
            var sawNotReady = false
            var maxPaused = 0.0
            var maxRingUsed = 0
            var maxReserved = 0
            while ContinuousClock.now - outageStart < .seconds(30) {
                // A debug build's event loops can be slow to answer while eight flooders are being read;
                // an unanswered probe is retried, not a failure.
                if let ready = try? await Metrics.ready(port), ready.status == 503,
                    ready.body.contains("broker_unreachable")
                {
                    sawNotReady = true
                }
                if let samples = try? await Metrics.scrape(port).samples {
                    maxPaused = max(maxPaused, samples["kcp_connections_paused"] ?? 0)
                }
                let usage = daemon.daemon.bufferUsage
                maxRingUsed = max(maxRingUsed, usage.usedBytes)
                maxReserved = max(maxReserved, usage.reservedBytes)
                try await Task.sleep(for: .milliseconds(500))
            }
            let duringOutage = daemon.counters
            #expect(sawNotReady, "/ready never answered 503 broker_unreachable during the outage")
            // Under a sanitizer every /metrics probe can time out while eight clients flood the event loops;
            // the in-process count of backpressure pauses then tells the same.
            #expect(
                maxPaused >= 1 || duringOutage.backpressurePauses > beforeOutage.backpressurePauses,
                "no connection was backpressured"
            )
            #expect(maxReserved <= 4 * ringBytes)
            #expect(maxRingUsed <= maxReserved)

            daemon.broker.setAllBrokers(up: true)
            let recoveryStart = ContinuousClock.now
            #expect(await eventually(seconds: 60) { (try? await Metrics.ready(port))?.status == 200 })
            let readyAgainAfter = ContinuousClock.now - recoveryStart
            try await Task.sleep(for: .seconds(3))
            stop.store(true, ordering: .relaxed)
            try await senders.value

            #expect(
                await eventually(seconds: 60) {
                    let c = daemon.counters
                    return c.delivered + c.failed == c.accepted
                }
            )
            let final = daemon.counters
            let reader = try daemon.reader()
            let inKafka = try chats.reduce(Int64(0)) { $0 + (try reader.recordCount(of: "kafka.chat.\($1)")) }
            print(
                "FAULT broker-down-30s: sent=\(sent.load(ordering: .relaxed)) accepted=\(final.accepted) delivered=\(final.delivered) failed=\(final.failed) "
                    + "inKafka=\(inKafka) acceptedBeforeOutage=\(beforeOutage.accepted) acceptedDuringOutage=\(duringOutage.accepted - beforeOutage.accepted) "
                    + "maxPausedConnections=\(Int(maxPaused)) maxRingUsedBytes=\(maxRingUsed) reservedBytes=\(maxReserved) readyAgainAfter=\(readyAgainAfter)"
            )
            #expect(final.failed == 0)
            #expect(final.delivered == final.accepted)
            #expect(inKafka == Int64(final.accepted))
            #expect(final.accepted == sent.load(ordering: .relaxed), "every message a client wrote was accepted")
            try await daemon.stop()
        }

        @Test("10 000 clients that reset mid-frame: open fds and RSS return to their baseline")
        func resetsMidFrame() async throws {
            let broker = try MockCluster(brokers: 1)
            let process = try DaemonProcess(arguments: [
                "--bootstrap-servers", broker.bootstrapServers, "--host", "127.0.0.1", "--port", "0",
            ])
            let port = try #require(await process.listeningPort())
            let pid = process.process.processIdentifier

            /// Upgrades `count` connections in batches, sends half a frame on each, then resets them all (RST).
            @Sendable func resetRound(_ count: Int) throws {
                let batch = 500
                var done = 0
                while done < count {
                    let clients = try (0..<min(batch, count - done)).map { _ in
                        try TestWebSocketClient.connect(port: port, path: "/send-message/global")
                    }
                    for client in clients {
                        // A masked text frame announcing 1000 bytes, of which only 100 arrive.
                        let frame = TestWebSocketClient.frame(
                            opcode: 1,
                            payload: Array(repeating: UInt8(ascii: "x"), count: 1000)
                        )
                        try client.send(Array(frame.prefix(108)))
                    }
                    for client in clients { client.resetOnClose() }
                    done += clients.count
                }
            }
            func figures() async -> (fds: Int, rssKiB: Int, active: Double?) {
                let active = try? await Metrics.scrape(port).samples["kcp_connections_active"]
                return (Self.openFileDescriptors(pid), Self.residentKiB(pid), active)
            }

            // 10 000 connections a round; 2 000 under a sanitizer (scripts/test-sanitizers sets KCP_SANITIZER),
            // whose slowdown would not fit the suite's time limit. The checks below hold for either.
            let perRound = ProcessInfo.processInfo.environment["KCP_SANITIZER"] == nil ? 10_000 : 2_000

            // The first round warms NIO's and malloc's pools; its end state is the baseline.
            try await onThread { try resetRound(perRound) }
            #expect(
                await eventually(seconds: 20) {
                    (try? await Metrics.scrape(port).samples["kcp_connections_active"]) == 0
                }
            )
            try await Task.sleep(for: .seconds(1))
            let baseline = await figures()

            try await onThread { try resetRound(perRound) }
            #expect(
                await eventually(seconds: 20) {
                    (try? await Metrics.scrape(port).samples["kcp_connections_active"]) == 0
                }
            )
            try await Task.sleep(for: .seconds(1))
            let after = await figures()
            let samples = try await Metrics.scrape(port).samples
            print(
                "FAULT resets-mid-frame: connections=\(Int(samples["kcp_connections_opened_total"] ?? 0)) fds baseline=\(baseline.fds) after=\(after.fds) "
                    + "rssKiB baseline=\(baseline.rssKiB) after=\(after.rssKiB) accepted=\(Int(samples["kcp_messages_accepted_total"] ?? -1))"
            )
            #expect(samples["kcp_connections_opened_total"] == Double(2 * perRound))
            #expect(samples["kcp_messages_accepted_total"] == 0, "half frames must never become messages")
            #expect(after.fds <= baseline.fds + 2)
            // A leak of even 200 bytes per connection would show as 2 MB here. Not under a sanitizer
            // (scripts/test-sanitizers sets KCP_SANITIZER): TSan's shadow and synchronisation metadata and
            // ASan's quarantine make RSS grow with every fresh allocation, leak or not; LeakSanitizer
            // checks for leaks there instead.
            if ProcessInfo.processInfo.environment["KCP_SANITIZER"] == nil {
                #expect(after.rssKiB <= baseline.rssKiB + 2048)
            }

            // Still serving.
            let acked = try await onThread {
                let client = try TestWebSocketClient.connect(port: port, path: "/send-message/global?ack=1")
                try client.sendText(#"{"sender":"s","text":"after the storm","tag":"t"}"#)
                return try client.receiveText()
            }
            #expect(acked.contains("\"ack\":1"))
            process.signal(SIGTERM)
            #expect(await process.waitForExit(seconds: 30) == 0)
        }

        @Test("1 000 slowloris handshakes do not delay a healthy client")
        func slowloris() async throws {
            let broker = try MockCluster(brokers: 1)
            let process = try DaemonProcess(arguments: [
                "--bootstrap-servers", broker.bootstrapServers, "--host", "127.0.0.1", "--port", "0",
            ])
            let port = try #require(await process.listeningPort())
            let healthy = try await onThread {
                try TestWebSocketClient.connect(port: port, path: "/send-message/global?ack=1")
            }

            /// Send → ack round trips of the healthy client, in milliseconds, sorted.
            @Sendable func roundTrips(_ count: Int, from start: Int) throws -> [Double] {
                try (start..<(start + count)).map { index in
                    let begin = ContinuousClock.now
                    try healthy.sendText(#"{"sender":"h","text":"\#(index)","tag":"t"}"#)
                    let reply = try healthy.receiveText()
                    guard reply.contains("\"ack\":\(index + 1)") else {
                        throw TestWebSocketClient.ClientError.malformed(reply)
                    }
                    let elapsed = ContinuousClock.now - begin
                    return Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
                }.sorted()
            }
            let baseline = try await onThread { try roundTrips(200, from: 0) }

            // 1 000 connections trickling a handshake, each one byte a second (spread evenly, as a
            // slowloris attacker keeps many connections barely alive).
            let stop = ManagedAtomic<Bool>(false)
            let trickled = ManagedAtomic<Int>(0)
            let trickler = Task {
                try await onThread {
                    let request = Array(
                        "GET /send-message/global HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n".utf8
                    )
                    var slow = try (0..<1000).map { _ in try TestWebSocketClient(port: port) }
                    var offset = 0
                    while !stop.load(ordering: .relaxed) {
                        slow = slow.filter { client in
                            usleep(1000)
                            return (try? client.send([request[offset % request.count]])) != nil
                        }
                        trickled.store(slow.count, ordering: .relaxed)
                        offset += 1
                    }
                }
            }
            #expect(await eventually { trickled.load(ordering: .relaxed) > 0 })
            try await Task.sleep(for: .seconds(1))
            let during = try await onThread { try roundTrips(200, from: 200) }
            stop.store(true, ordering: .relaxed)
            try await trickler.value

            func percentile(_ sorted: [Double], _ p: Double) -> Double {
                sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
            }
            print(
                "FAULT slowloris: slowConnections=\(trickled.load(ordering: .relaxed)) healthy ack ms p50 \(percentile(baseline, 0.5)) → \(percentile(during, 0.5)), "
                    + "p99 \(percentile(baseline, 0.99)) → \(percentile(during, 0.99)), max \(baseline.last!) → \(during.last!)"
            )
            #expect(percentile(during, 0.5) <= percentile(baseline, 0.5) * 2 + 5)
            #expect(percentile(during, 0.99) <= percentile(baseline, 0.99) * 3 + 20)
            process.signal(SIGTERM)
            #expect(await process.waitForExit(seconds: 30) == 0)
        }

        static func openFileDescriptors(_ pid: Int32) -> Int {
            (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? -1
        }

        static func residentKiB(_ pid: Int32) -> Int {
            guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return -1 }
            for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
                return Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]) ?? -1
            }
            return -1
        }
    }
}

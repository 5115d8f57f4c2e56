import Atomics
import Foundation
import Kafka
import NIOConcurrencyHelpers
import Testing

extension IntegrationTests {
    @Suite("graceful shutdown of the real process")
    struct Shutdown {
        @Test("SIGTERM under load: every accepted message is in Kafka and acked, exit 0, close 1001")
        func sigtermUnderLoad() async throws {
            let broker = try MockCluster(brokers: 1)
            let process = try DaemonProcess(arguments: [
                "--bootstrap-servers", broker.bootstrapServers, "--host", "127.0.0.1", "--port", "0",
                "--set", "log.level=info", "--set", "shutdown.drain_timeout_seconds=20",
            ])
            let port = try #require(await process.listeningPort())

            let acked = ManagedAtomic<Int>(0)
            let nacked = ManagedAtomic<Int>(0)
            let closedWith1001 = ManagedAtomic<Int>(0)
            let readerEndings = NIOLockedValueBox<[String]>([])
            let clients = 8
            let payload = String(repeating: "p", count: 80)
            // Everyone connects first, so all clients are in when the signal comes.
            let sockets = try await onThread {
                try (0..<clients).map { client in
                    try TestWebSocketClient.connect(
                        port: port,
                        path: "/send-message/global" + (client < 6 ? "?ack=1" : "")
                    )
                }
            }
            let work = Task {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for (client, socket) in sockets.enumerated() {
                        group.addTask {
                            _ = try? await onThread {
                                var index = 0
                                while true {
                                    try socket.sendText(
                                        #"{"sender":"c\#(client)","text":"\#(index) \#(payload)","tag":"load"}"#
                                    )
                                    index += 1
                                }
                            }
                        }
                        group.addTask {
                            do {
                                try await onThread {
                                    // Clients without acks hear nothing until the close frame, which comes
                                    // after the whole drain: a receive timeout is not the end for them.
                                    let giveUp = ContinuousClock.now + .seconds(60)
                                    while true {
                                        let frame: TestWebSocketClient.Frame
                                        do {
                                            frame = try socket.receiveFrame()
                                        } catch TestWebSocketClient.ClientError.timedOut
                                            where ContinuousClock.now < giveUp
                                        {
                                            continue
                                        }
                                        if frame.opcode == 8 {
                                            if frame.closeCode == 1001 {
                                                closedWith1001.wrappingIncrement(ordering: .relaxed)
                                            }
                                            try? socket.sendClose(code: 1000)
                                            return
                                        }
                                        if frame.text.hasPrefix(#"{"ack""#) {
                                            acked.wrappingIncrement(ordering: .relaxed)
                                        }
                                        if frame.text.hasPrefix(#"{"nack""#) {
                                            nacked.wrappingIncrement(ordering: .relaxed)
                                        }
                                    }
                                }
                            } catch {
                                readerEndings.withLockedValue { $0.append("client \(client): \(error)") }
                            }
                        }
                    }
                    try await group.waitForAll()
                }
            }
            // Load for a while, then SIGTERM in the middle of it.
            try await Task.sleep(for: .seconds(2))
            #expect(acked.load(ordering: .relaxed) > 0)
            process.signal(SIGTERM)
            let signalled = ContinuousClock.now
            let status = await process.waitForExit(seconds: 40)
            let stopSeconds = ContinuousClock.now - signalled
            do {
                try await work.value
            } catch {
                Issue.record("client error \(error); daemon log:\n\(process.log.suffix(3000))")
            }
            try await Task.sleep(for: .milliseconds(200))

            #expect(status == 0, "\(process.log.suffix(2000))")
            let accepted = try #require(process.finalCounter("accepted"), "\(process.log.suffix(2000))")
            #expect(accepted > 0)
            #expect(process.finalCounter("delivered") == accepted)
            #expect(process.finalCounter("failed") == 0)
            #expect(nacked.load(ordering: .relaxed) == 0)
            #expect(
                closedWith1001.load(ordering: .relaxed) == clients,
                "\(readerEndings.withLockedValue { $0 }) \(process.log.suffix(2500))"
            )
            let inKafka = try TopicReader(bootstrapServers: broker.bootstrapServers).recordCount(
                of: "kafka.chat.global"
            )
            #expect(inKafka == Int64(accepted))
            print(
                "FAULT sigterm-full-load: accepted=\(accepted) delivered=\(process.finalCounter("delivered") ?? -1) failed=\(process.finalCounter("failed") ?? -1) "
                    + "inKafka=\(inKafka) acked=\(acked.load(ordering: .relaxed)) nacked=\(nacked.load(ordering: .relaxed)) closed1001=\(closedWith1001.load(ordering: .relaxed)) "
                    + "exit=\(status.map(String.init) ?? "none") after \(stopSeconds) (drain timeout 20 s)"
            )
            #expect(stopSeconds < .seconds(25), "stopped within the drain timeout plus the close timeout")
            // Ack-mode clients heard about every one of their messages: acked ≤ accepted, and the rest came
            // from the two clients that did not ask for acks.
            #expect(acked.load(ordering: .relaxed) > 0)
            #expect(acked.load(ordering: .relaxed) <= accepted)
        }

        /// The watchdog and the broker probe stop before the gateway does; a metadata request of theirs to an
        /// unreachable cluster (up to 5 s) once held the drain back, and the listener kept accepting.
        @Test("SIGTERM while no broker answers: the drain starts at once, exit 0")
        func sigtermWithKafkaUnreachable() async throws {
            // A port nothing listens on: bind one, note it, close it.
            let closed = try unusedLoopbackPort()
            let process = try DaemonProcess(arguments: [
                "--bootstrap-servers", "127.0.0.1:\(closed)", "--host", "127.0.0.1", "--port", "0", "--set",
                "ready.broker_check_seconds=10",
            ])
            _ = try #require(await process.listeningPort(), "\(process.log)")
            try await Task.sleep(for: .seconds(1.5))  // the probe's first metadata request is under way
            let signalled = ContinuousClock.now
            process.signal(SIGTERM)
            while !process.log.contains("draining") && ContinuousClock.now - signalled < .seconds(10) {
                try await Task.sleep(for: .milliseconds(10))
            }
            let delay = ContinuousClock.now - signalled
            #expect(delay < .seconds(1.5), "the drain began \(delay) after SIGTERM")
            #expect(await process.waitForExit(seconds: 20) == 0)
        }
    }
}

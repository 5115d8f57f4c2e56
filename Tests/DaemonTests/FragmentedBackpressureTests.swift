import Daemon
import Foundation
import Testing

extension IntegrationTests {
    /// Regression (found by `scripts/fuzz frames`): a fragmented message whose last frame was the last byte
    /// read, and which met a full ring, is held inside the frame reader, not in the connection's input.
    /// Resuming used to look only at the input, so the message waited for the client's next frame, and at
    /// shutdown it was neither delivered nor refused: it vanished without a nack or a count.
    @Suite("backpressure: a fragmented message that meets a full ring")
    struct FragmentedBackpressure {
        /// Fills the chat's ring (brokers down) from one connection until reads pause and stay paused.
        private static func fillRing(_ daemon: RunningDaemon, chat: String, messages: Int) async throws {
            let port = daemon.port
            let payload = String(repeating: "x", count: 400)
            Task {
                try await onThread {
                    let filler = try TestWebSocketClient.connect(port: port, path: "/send-message/chat/\(chat)")
                    for index in 0..<messages {
                        try filler.sendText(#"{"sender":"filler","text":"\#(index) \#(payload)","tag":"t"}"#)
                    }
                    _ = filler.waitForEOF()
                }
            }
            #expect(await eventually(seconds: 20) { daemon.counters.backpressurePauses > 0 })
            #expect(try await daemon.acceptedStopsGrowing(checkingEvery: .milliseconds(300)))
        }

        /// A 2-frame message of ~1 KiB (bigger than the filler's records, so it cannot fit the space left).
        private static func sendFragmented(_ client: TestWebSocketClient) throws {
            let message = Array(
                #"{"sender":"frag","text":"\#(String(repeating: "y", count: 1000))","tag":"t","id":"f-1"}"#.utf8
            )
            let middle = message.count / 2
            try client.sendFrame(opcode: 0x1, payload: Array(message[..<middle]), fin: false)
            try client.sendFrame(opcode: 0x0, payload: Array(message[middle...]), fin: true)
        }

        static let fillers = 1500

        /// A daemon whose brokers are down and whose chat ring is full, and an ack-mode client whose
        /// fragmented message met that full ring.
        private static func fragmentedMessageAtFullRing(
            _ configure: @escaping (inout DaemonConfiguration) -> Void = { _ in }
        ) async throws -> (daemon: RunningDaemon, client: TestWebSocketClient) {
            let daemon = try await RunningDaemon.start {
                $0.ringBytes = 1 << 16
                $0.maxMessageBytes = 4096
                $0.queueBufferingMaxMessages = 200
                $0.messageTimeoutMilliseconds = 120_000
                configure(&$0)
            }
            daemon.broker.setAllBrokers(up: false)
            let chat = uniqueChat("frag")
            try await Self.fillRing(daemon, chat: chat, messages: Self.fillers)

            let port = daemon.port
            let pausesBefore = daemon.counters.backpressurePauses
            let client = try await onThread { () -> TestWebSocketClient in
                let client = try TestWebSocketClient.connect(port: port, path: "/send-message/chat/\(chat)?ack=1")
                try Self.sendFragmented(client)
                return client
            }
            // The fragmented message met the full ring.
            #expect(await eventually(seconds: 10) { daemon.counters.backpressurePauses > pausesBefore })
            return (daemon, client)
        }

        @Test("it is delivered and acked once the ring has space, without the client sending anything else")
        func deliveredWhenSpaceReturns() async throws {
            let (daemon, client) = try await Self.fragmentedMessageAtFullRing()
            let fillers = Self.fillers

            daemon.broker.setAllBrokers(up: true)
            let reply = try await onThread { try client.receiveText() }  // 10 s receive timeout
            #expect(reply.hasPrefix(#"{"ack":"f-1","#), "\(reply)")
            #expect(await eventually(seconds: 30) { daemon.counters.delivered == fillers + 1 })
            try await daemon.stop()
        }

        @Test("at the shutdown deadline it is refused with a nack, not dropped unreported")
        func refusedAtShutdown() async throws {
            let (daemon, client) = try await Self.fragmentedMessageAtFullRing { $0.drainTimeoutSeconds = 2 }

            let refusedBefore = daemon.counters.refusedAtShutdown
            let stopping = Task { try await daemon.stop() }
            let closing = try await onThread { try client.receiveClose() }
            try await stopping.value
            #expect(closing.code == 1001)
            #expect(
                closing.textsBefore.contains { $0.hasPrefix(#"{"nack":"f-1","error":{"code":"shutting_down""#) },
                "\(closing.textsBefore)"
            )
            // The filler's blocked message and this one.
            #expect(daemon.counters.refusedAtShutdown >= refusedBefore + 2)
        }
    }
}

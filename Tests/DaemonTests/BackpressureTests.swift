import Atomics
import Foundation
import Testing

extension IntegrationTests {
    @Suite("backpressure")
    struct Backpressure {
        @Test("broker down: reads pause, memory stays bounded; broker up: everything is delivered")
        func brokerOutage() async throws {
            let daemon = try await RunningDaemon.start {
                $0.ringBytes = 1 << 16
                $0.maxMessageBytes = 4096
                $0.queueBufferingMaxMessages = 200
                $0.messageTimeoutMilliseconds = 120_000
            }
            daemon.broker.setAllBrokers(up: false)
            let port = daemon.port
            let total = 40_000
            let payload = String(repeating: "x", count: 400)
            let finished = ManagedAtomic<Bool>(false)
            let sender = Task {
                try await onThread {
                    let client = try TestWebSocketClient.connect(port: port, path: "/send-message/global")
                    for index in 0..<total {
                        try client.sendText(#"{"sender":"bp","text":"\#(index) \#(payload)","tag":"t"}"#)
                    }
                    finished.store(true, ordering: .relaxed)
                    // Stay connected until everything is delivered.
                    _ = client.waitForEOF()
                }
            }

            // The sender is stopped by TCP backpressure: accepted stops growing well below the total.
            #expect(await eventually(seconds: 20) { daemon.counters.backpressurePauses > 0 })
            #expect(try await daemon.acceptedStopsGrowing(checkingEvery: .milliseconds(500)))
            let stalled = daemon.counters
            let finishedWhileStalled = finished.load(ordering: .relaxed)
            #expect(!finishedWhileStalled)
            #expect(stalled.accepted < total)
            #expect(stalled.delivered == 0)
            // Memory is bounded by the ring (plus librdkafka's queue limit), whatever the client does.
            let usage = daemon.daemon.bufferUsage
            #expect(usage.usedBytes <= 1 << 16)
            #expect(usage.reservedBytes == 1 << 16)

            daemon.broker.setAllBrokers(up: true)
            #expect(await eventually(seconds: 60) { daemon.counters.delivered == total })
            let finishedAfterwards = finished.load(ordering: .relaxed)
            #expect(finishedAfterwards)
            #expect(try daemon.reader().recordCount(of: "kafka.chat.global") == Int64(total))
            try await daemon.stop()
            _ = try? await sender.value
            #expect(daemon.counters.failed == 0)
        }
    }
}

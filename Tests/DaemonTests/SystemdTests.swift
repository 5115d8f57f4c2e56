import Foundation
import Kafka
import Testing

extension IntegrationTests {
    @Suite("systemd: notify, watchdog")
    struct Systemd {
        @Test("READY=1, then WATCHDOG=1 with STATUS; a stalled producer thread stops the pings")
        func watchdogStopsWhenProducerStalls() async throws {
            let broker = try MockCluster(brokers: 1)
            let notify = try NotifySocket()
            let process = try DaemonProcess(
                arguments: [
                    "--bootstrap-servers", broker.bootstrapServers, "--host", "127.0.0.1", "--port", "0", "--set",
                    "testing.fault_hooks=true",
                ],
                environment: ["NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "2000000"]
            )
            let started = try await onThread {
                notify.receive(until: 15) { messages in messages.filter { $0.contains("WATCHDOG=1") }.count >= 2 }
            }
            let ready = try #require(
                started.firstIndex { $0.contains("READY=1") },
                "\(started) \(process.log.suffix(1500))"
            )
            let firstPing = try #require(started.firstIndex { $0.contains("WATCHDOG=1") })
            #expect(ready < firstPing)
            #expect(
                started.contains { $0.contains("STATUS=ready; 0 connections, 0 msgs/s in, 0 msgs/s delivered") },
                "\(started)"
            )

            process.signal(SIGUSR2)
            // The producer thread's progress may be up to 3 s old before the pings stop.
            _ = try await onThread { notify.receive(for: 4.5) }
            let afterStall = try await onThread { notify.receive(for: 4) }
            #expect(!afterStall.contains { $0.contains("WATCHDOG=1") }, "\(afterStall)")
            #expect(process.log.contains("watchdog: no progress"))
            process.signal(SIGKILL)
            _ = await process.waitForExit(seconds: 10)
        }

        @Test("SIGTERM sends STOPPING=1 with EXTEND_TIMEOUT_USEC and exits 0")
        func stopping() async throws {
            let broker = try MockCluster(brokers: 1)
            let notify = try NotifySocket()
            let process = try DaemonProcess(
                arguments: ["--bootstrap-servers", broker.bootstrapServers, "--host", "127.0.0.1", "--port", "0"],
                environment: ["NOTIFY_SOCKET": notify.path]
            )
            let ready = try await onThread { notify.receive(until: 15) { $0.contains { $0.contains("READY=1") } } }
            #expect(ready.contains { $0.contains("READY=1") }, "\(process.log.suffix(1500))")
            process.signal(SIGTERM)
            let stopping = try await onThread {
                notify.receive(until: 10) { $0.contains { $0.contains("STOPPING=1") } }
            }
            let message = try #require(stopping.first { $0.contains("STOPPING=1") })
            #expect(message.contains("EXTEND_TIMEOUT_USEC="))
            #expect(await process.waitForExit(seconds: 20) == 0)
        }

        @Test("no NOTIFY_SOCKET: nothing changes, the daemon runs and stops normally")
        func outsideSystemd() async throws {
            let broker = try MockCluster(brokers: 1)
            let process = try DaemonProcess(arguments: [
                "--bootstrap-servers", broker.bootstrapServers, "--host", "127.0.0.1", "--port", "0",
            ])
            _ = try #require(await process.listeningPort())
            process.signal(SIGTERM)
            #expect(await process.waitForExit(seconds: 20) == 0)
        }
    }
}

import Foundation
import Testing

extension IntegrationTests {
    @Suite("command line")
    struct CommandLine {
        @Test("without brokers and without --embedded-broker the daemon refuses to start")
        func refusesWithoutBrokers() async throws {
            let (status, output) = try await DaemonProcess.run(["--port", "0"])
            #expect(status != 0)
            #expect(output.contains("kafka.bootstrap_servers"))
            #expect(output.contains("--embedded-broker"))
        }

        @Test(
            "a bad value names its key and exits non-zero",
            arguments: [
                (["--set", "listen.port=99999"], "listen.port"),
                (["--set", "kafka.linger_ms=soon"], "kafka.linger_ms"),
                (["--set", "no.such.key=1"], "no.such.key"),
                (["--set", "librdkafka.not.a.property=1"], "librdkafka.not.a.property"),
                (["--set", "buffer.ring_bytes=5000"], "buffer.ring_bytes"),
            ]
        )
        func badValues(arguments: [String], key: String) async throws {
            let (status, output) = try await DaemonProcess.run(["--bootstrap-servers", "127.0.0.1:1"] + arguments)
            #expect(status != 0)
            #expect(output.contains(key), "\(output)")
        }

        @Test("an environment variable with a bad value names its key")
        func badEnvironment() async throws {
            let (status, output) = try await DaemonProcess.run(
                ["--bootstrap-servers", "127.0.0.1:1"],
                environment: ["KCP_KAFKA_ACKS": "most"]
            )
            #expect(status != 0)
            #expect(output.contains("kafka.acks"))
            #expect(output.contains("KCP_KAFKA_ACKS"))
        }

        @Test("--embedded-broker runs a mock cluster, logs its address and warns loudly")
        func embeddedBroker() async throws {
            let process = try DaemonProcess(arguments: ["--embedded-broker", "--host", "127.0.0.1", "--port", "0"])
            let port = try #require(await process.listeningPort())
            try await onThread {
                let client = try TestWebSocketClient.connect(port: port, path: "/send-message/global?ack=1")
                try client.sendText(#"{"sender":"a","text":"b","tag":"c"}"#)
                #expect(try client.receiveText().hasPrefix(#"{"ack":1,"#))
            }
            #expect(process.log.contains("EMBEDDED BROKER"))
            #expect(process.log.contains("bootstrap="))
            process.signal(SIGTERM)
            #expect(await process.waitForExit(seconds: 20) == 0)
        }

        @Test("an unreachable broker: each connection failure is logged once, as a warning with its error name")
        func brokerFailureLoggedOnce() async throws {
            let process = try DaemonProcess(arguments: [
                "--bootstrap-servers", "127.0.0.1:1", "--host", "127.0.0.1", "--port", "0",
            ])
            _ = try #require(await process.listeningPort())
            try await Task.sleep(for: .seconds(2))
            process.signal(SIGTERM)
            #expect(await process.waitForExit(seconds: 20) == 0)
            let failures = process.log.split(separator: "\n").filter {
                $0.contains("Connect to ipv4#127.0.0.1:1 failed")
            }
            #expect(!failures.isEmpty, "\(process.log)")
            for line in failures {
                #expect(line.contains(" warning ") && line.contains("error=TRANSPORT"), "\(line)")
            }
            // The same text (with librdkafka's "identical error(s) suppressed" count) never appears twice.
            let texts = failures.map { $0[$0.range(of: "Connect to")!.lowerBound...] }
            #expect(Set(texts).count == texts.count, "\(failures)")
            // Never ready: no broker answered before the shutdown.
            #expect(!process.log.contains("[Daemon] ready"), "\(process.log)")
        }

        @Test("--help lists the flags")
        func help() async throws {
            let (status, output) = try await DaemonProcess.run(["--help"])
            #expect(status == 0)
            for flag in ["--embedded-broker", "--bootstrap-servers", "--config", "--set", "--list-keys"] {
                #expect(output.contains(flag))
            }
        }
    }
}

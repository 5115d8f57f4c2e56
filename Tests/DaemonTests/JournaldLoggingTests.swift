import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

extension IntegrationTests {
    /// The real binary, with stderr on a file the test created, plays a service whose stderr systemd
    /// connected to journald: `JOURNAL_STREAM` names that file's device and inode, as systemd names its socket's.
    @Suite("journald: priority prefixes")
    struct JournaldLogging {
        /// Starts the binary with `arguments`, stdout and stderr on `output`, and `journalStream` as
        /// `JOURNAL_STREAM`; LOG_LEVEL is pinned to info so the lines checked below are all there.
        static func start(_ arguments: [String], output: CapturedOutput, journalStream: String) throws -> Process {
            let process = Process()
            process.executableURL = DaemonProcess.binary
            process.arguments = arguments
            var environment = ProcessInfo.processInfo.environment.filter {
                !$0.key.hasPrefix("KCP_")
                    && !["NOTIFY_SOCKET", "LISTEN_FDS", "LISTEN_PID", "WATCHDOG_USEC"].contains($0.key)
            }
            environment["JOURNAL_STREAM"] = journalStream
            environment["LOG_LEVEL"] = "info"
            process.environment = environment
            process.standardOutput = output.handle
            process.standardError = output.handle
            try process.run()
            return process
        }

        /// Serves with `--embedded-broker` until "listening", then SIGTERM; returns the exit status.
        static func serveAndStop(output: CapturedOutput, journalStream: String) async throws -> Int32? {
            let process = try Self.start(
                ["--embedded-broker", "--host", "127.0.0.1", "--port", "0"],
                output: output,
                journalStream: journalStream
            )
            defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
            let listening = await eventually(seconds: 20) { output.text.contains("listening") }
            try #require(listening, "\(output.text.suffix(1500))")
            kill(process.processIdentifier, SIGTERM)
            let exited = await eventually(seconds: 20) { !process.isRunning }
            return exited ? process.terminationStatus : nil
        }

        /// StreamLogHandler's ISO 8601 timestamp.
        static func hasTimestamp(_ line: String) -> Bool {
            line.firstMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/) != nil
        }

        @Test("JOURNAL_STREAM naming stderr: every line starts with its priority, none has a timestamp")
        func prefixed() async throws {
            let output = try CapturedOutput()
            let status = try await Self.serveAndStop(output: output, journalStream: output.journalStream)
            #expect(status == 0, "\(output.text.suffix(1500))")
            let lines = output.lines
            try #require(!lines.isEmpty)
            for line in lines {
                #expect(line.firstMatch(of: /^<[0-7]>/) != nil, "no priority: \(line)")
                #expect(!Self.hasTimestamp(line), "timestamp: \(line)")
            }
            // One line per priority the daemon uses in a normal run.
            #expect(
                lines.contains { $0.hasPrefix("<4>warning kafka-chat-producer:") && $0.contains("EMBEDDED BROKER") },
                "\(lines)"
            )
            #expect(
                lines.contains { $0.hasPrefix("<6>info kafka-chat-producer:") && $0.hasSuffix("listening") },
                "\(lines)"
            )
            #expect(
                lines.contains {
                    $0.hasPrefix("<5>notice kafka-chat-producer:") && $0.contains("stopped") && $0.contains("accepted=")
                },
                "\(lines)"
            )
        }

        @Test("JOURNAL_STREAM naming another file (an inherited variable): terminal lines with timestamps")
        func inheritedVariableIgnored() async throws {
            let output = try CapturedOutput()
            let elsewhere = try CapturedOutput()
            let status = try await Self.serveAndStop(output: output, journalStream: elsewhere.journalStream)
            #expect(status == 0, "\(output.text.suffix(1500))")
            let listening = try #require(output.lines.first { $0.hasSuffix("listening") })
            #expect(!listening.hasPrefix("<"), "\(listening)")
            #expect(Self.hasTimestamp(listening), "\(listening)")
        }

        @Test("a configuration error, written before logging starts, is filed as an error (<3>)")
        func configurationError() async throws {
            let output = try CapturedOutput()
            let process = try Self.start(
                ["--embedded-broker", "--set", "kafka.linger_ms=soon"],
                output: output,
                journalStream: output.journalStream
            )
            let exited = await eventually(seconds: 20) { !process.isRunning }
            try #require(exited)
            #expect(process.terminationStatus == 78)
            #expect(
                output.lines.contains {
                    $0.hasPrefix("<3>kafka-chat-producer: configuration error") && $0.contains("kafka.linger_ms")
                },
                "\(output.text)"
            )
        }
    }
}

import Foundation
import NIOConcurrencyHelpers

/// The real `kafka-chat-producer` binary as a child process, for what only a process can show:
/// signals, exit codes, the command line.
final class DaemonProcess: @unchecked Sendable {
    let process = Process()
    private let output = NIOLockedValueBox("")
    /// Set when the output pipe reached end of file: every byte the process wrote is in `output`.
    private let outputEnded = NIOLockedValueBox(false)

    static var binary: URL {
        if let path = ProcessInfo.processInfo.environment["KCP_BINARY"] { return URL(fileURLWithPath: path) }
        // The test bundle sits next to the products in .build/<configuration>/.
        return URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(
            "kafka-chat-producer"
        )
    }

    init(arguments: [String], environment: [String: String] = [:]) throws {
        self.process.executableURL = Self.binary
        self.process.arguments = arguments
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("KCP_") }
        env.merge(environment) { $1 }
        self.process.environment = env
        let pipe = Pipe()
        self.process.standardError = pipe
        self.process.standardOutput = pipe
        pipe.fileHandleForReading.readabilityHandler = { [output, outputEnded] handle in
            let data = handle.availableData
            guard !data.isEmpty else {
                handle.readabilityHandler = nil
                outputEnded.withLockedValue { $0 = true }
                return
            }
            output.withLockedValue { $0 += String(decoding: data, as: UTF8.self) }
        }
        try self.process.run()
    }

    var log: String { self.output.withLockedValue { $0 } }

    /// Runs to completion and returns (exit status, output).
    static func run(_ arguments: [String], environment: [String: String] = [:]) async throws -> (Int32, String) {
        let process = try DaemonProcess(arguments: arguments, environment: environment)
        let status = await process.waitForExit(seconds: 30)
        // The output until the pipe's end, not until a fixed pause: on a loaded machine the last lines of
        // `--list-keys` could still be unread 100 ms after the exit (DocumentedKeysTests then missed keys).
        let deadline = ContinuousClock.now + .seconds(10)
        while !process.outputEnded.withLockedValue({ $0 }) && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
        return (status ?? -1, process.log)
    }

    /// The port from the "listening" log line, once it appears.
    func listeningPort(seconds: Double = 20) async -> Int? {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while ContinuousClock.now < deadline {
            if let match = self.log.firstMatch(of: /address=\S*:(\d+)\S* .*listening/) { return Int(match.1) }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return nil
    }

    /// A counter from the final "stopped" log line.
    func finalCounter(_ name: String) -> Int? {
        guard
            let line = self.log.split(separator: "\n").last(where: {
                $0.contains("stopped") && $0.contains("accepted=")
            })
        else { return nil }
        guard let match = line.firstMatch(of: try! Regex("\(name)=(\\d+)")) else { return nil }
        return Int(match.output[1].substring!)
    }

    func signal(_ signal: Int32) {
        kill(self.process.processIdentifier, signal)
    }

    func waitForExit(seconds: Double) async -> Int32? {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while self.process.isRunning && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        if self.process.isRunning {
            self.process.terminate()
            return nil
        }
        return self.process.terminationStatus
    }

    deinit {
        if self.process.isRunning { kill(self.process.processIdentifier, SIGKILL) }
    }
}

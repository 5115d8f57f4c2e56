import Foundation
import NIOConcurrencyHelpers

/// `Tests/Scripts/resend_clients.py` as a child process: chat clients over wss:// that keep every message
/// until it is acked and resend what was not after a reconnect. The test reads its progress lines while
/// it runs and its summary after `stop()`.
final class ResendClients: @unchecked Sendable {
    /// One JSON line of the script (progress and summary share the fields; the summary adds the last two).
    struct Report: Decodable, Sendable {
        var generated: Int
        var acked: Int
        var pending: Int
        var open: Int
        var connects: Int
        var resent: Int
        var acks: Int
        var duplicateAcks: Int
        var nacks: [String: Int]
        var errors: [String: Int]
        var closes: [String: Int]
        var handshakeFailures: [String: Int]
        var connectErrors: [String: Int]
        var perClient: [Int]?
        var unacked: [String]?

        var goingAwayCloses: Int { self.closes["1001"] ?? 0 }
        /// Handshakes through the proxy that did not end in a WebSocket: an HTTP error status, or the proxy
        /// refusing, resetting or timing out the connection.
        var failedHandshakes: Int {
            self.handshakeFailures.values.reduce(0, +) + self.connectErrors.values.reduce(0, +)
        }
    }

    enum ClientsError: Error, CustomStringConvertible {
        case noSummary(String)
        var description: String {
            switch self {
            case .noSummary(let output): return "resend_clients.py ended without a summary:\n\(output)"
            }
        }
    }

    private let process = Process()
    private let input = Pipe()
    private let stdout = NIOLockedValueBox("")
    private let stderr = NIOLockedValueBox("")

    /// - Parameters:
    ///   - url: `wss://127.0.0.1:PORT/send-message/…?ack=1`, through the proxy.
    ///   - rate: new messages a second, per client.
    init(python: String, url: String, cafile: URL, clients: Int, rate: Int, window: Int = 200) throws {
        let script = NginxProxy.repositoryRoot.appendingPathComponent("Tests/Scripts/resend_clients.py").path
        self.process.executableURL = URL(fileURLWithPath: python)
        self.process.arguments = [
            script, "--url", url, "--cafile", cafile.path, "--clients", "\(clients)", "--rate", "\(rate)",
            "--window", "\(window)",
        ]
        self.process.standardInput = self.input
        self.process.standardOutput = Self.collect(into: self.stdout)
        self.process.standardError = Self.collect(into: self.stderr)
        try self.process.run()
    }

    private static func collect(into box: NIOLockedValueBox<String>) -> Pipe {
        let pipe = Pipe()
        pipe.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            guard !data.isEmpty else { return }
            box.withLockedValue { $0 += String(decoding: data, as: UTF8.self) }
        }
        return pipe
    }

    deinit {
        if self.process.isRunning { kill(self.process.processIdentifier, SIGKILL) }
    }

    /// The script's stderr: handshake refusals, closes, reconnects, with timestamps.
    var log: String { self.stderr.withLockedValue { $0 } }

    /// The last complete line of the given event.
    private func last(_ event: String) -> Report? {
        let output = self.stdout.withLockedValue { $0 }
        guard
            let line = output.split(separator: "\n", omittingEmptySubsequences: true).last(where: {
                $0.hasPrefix("{\"event\":\"\(event)\"") && $0.hasSuffix("}")
            })
        else { return nil }
        return try? JSONDecoder().decode(Report.self, from: Data(line.utf8))
    }

    var progress: Report? { self.last("progress") }

    /// Waits until a progress line satisfies `condition`; returns that line, or nil after `seconds`.
    func waitFor(seconds: Double, _ condition: (Report) -> Bool) async -> Report? {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while ContinuousClock.now < deadline && self.process.isRunning {
            if let report = self.progress, condition(report) { return report }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return self.progress.flatMap { condition($0) ? $0 : nil }
    }

    /// No new messages; the clients wait for their last acks (resending as needed) and the script prints
    /// its summary.
    func stop(seconds: Double = 40) async throws -> Report {
        try? self.input.fileHandleForWriting.write(contentsOf: Data("stop\n".utf8))
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while self.process.isRunning && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
        if self.process.isRunning { kill(self.process.processIdentifier, SIGKILL) }
        self.process.waitUntilExit()
        // The readability handlers may still be appending the last bytes.
        try? await Task.sleep(for: .milliseconds(100))
        guard let summary = self.last("summary") else {
            throw ClientsError.noSummary(self.stdout.withLockedValue { String($0.suffix(2000)) } + "\n" + self.log)
        }
        return summary
    }

    /// The test tooling's Python: the venv with the pinned Tests/Scripts/requirements.txt (websockets).
    static func python() async throws -> String {
        let run = try await ToolRun.run(
            NginxProxy.repositoryRoot.appendingPathComponent("scripts/python-tools").path,
            []
        )
        guard run.status == 0, let python = run.lines.last, python.hasSuffix("/python") else {
            throw NginxProxy.ProxyError.toolFailed("scripts/python-tools", run.output)
        }
        return python
    }
}

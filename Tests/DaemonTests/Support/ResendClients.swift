import Foundation

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

    private let script: ScriptProcess

    /// - Parameters:
    ///   - url: `wss://127.0.0.1:PORT/send-message/…?ack=1`, through the proxy.
    ///   - rate: new messages a second, per client.
    init(python: String, url: String, cafile: URL, clients: Int, rate: Int, window: Int = 200) throws {
        let script = NginxProxy.repositoryRoot.appendingPathComponent("Tests/Scripts/resend_clients.py").path
        self.script = try ScriptProcess(
            executable: python,
            arguments: [
                script, "--url", url, "--cafile", cafile.path, "--clients", "\(clients)", "--rate", "\(rate)",
                "--window", "\(window)",
            ]
        )
    }

    /// The script's stderr: handshake refusals, closes, reconnects, with timestamps.
    var log: String { self.script.log }

    /// The last complete line of the given event.
    private func last(_ event: String) -> Report? {
        self.script.last(Report.self) { $0.hasPrefix("{\"event\":\"\(event)\"") }
    }

    var progress: Report? { self.last("progress") }

    /// Waits until a progress line satisfies `condition`; returns that line, or nil after `seconds`.
    func waitFor(seconds: Double, _ condition: (Report) -> Bool) async -> Report? {
        await self.script.waitFor(seconds: seconds, { self.progress }, condition)
    }

    /// No new messages; the clients wait for their last acks (resending as needed) and the script prints
    /// its summary.
    func stop(seconds: Double = 40) async throws -> Report {
        self.script.send("stop")
        await self.script.waitForExit(seconds: seconds)
        guard let summary = self.last("summary") else {
            throw ClientsError.noSummary(String(self.script.output.suffix(2000)) + "\n" + self.log)
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

import Foundation

/// A reference client's fault runner (`Tests/Scripts/<client>_client_fault_run.py`) as a child process: it
/// sends `count` numbered messages through one client of that language while the test breaks things, and
/// reports its progress in JSON lines (the protocol is in python_client_fault_run.py's header).
final class ClientFaultRunner: @unchecked Sendable {
    /// A progress line; the final one adds `done` and the rest.
    struct Report: Decodable, Sendable {
        var sent: Int
        var acked: Int
        var failed: Int
        var inFlight: Int
        var connections: Int
        var resent: Int
        var nacks: Int
        var done: Bool?
        var closes: [String: Int]?
        var errors: [String: Int]?
        var seconds: Double?
    }

    enum RunnerError: Error, CustomStringConvertible {
        case noFinalLine(String)
        var description: String {
            switch self {
            case .noFinalLine(let output): return "the runner ended without its final line:\n\(output)"
            }
        }
    }

    private let script: ScriptProcess

    /// - Parameter baseURL: `http://127.0.0.1:PORT`, the daemon or a proxy in front of it.
    init(python: String, script: URL, baseURL: String, chat: String, count: Int, rate: Int, prefix: String) throws {
        self.script = try ScriptProcess(
            executable: python,
            arguments: [
                script.path, "--base-url", baseURL, "--chat", chat, "--count", "\(count)", "--rate", "\(rate)",
                "--prefix", prefix,
            ]
        )
    }

    /// The runner's stderr.
    var log: String { self.script.log }

    var progress: Report? { self.script.last(Report.self) }

    /// Waits until a progress line satisfies `condition`; returns it, or nil after `seconds`.
    func waitFor(seconds: Double, _ condition: (Report) -> Bool) async -> Report? {
        await self.script.waitFor(seconds: seconds, { self.progress }, condition)
    }

    /// Waits for the runner to settle every message and exit; returns its exit status and final line. After
    /// `seconds` it is aborted (stdin closed): what is still unacked then fails, and its final line says so.
    func finish(seconds: Double) async throws -> (status: Int32, report: Report) {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while self.script.isRunning && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
        self.script.closeInput()
        let status = await self.script.waitForExit(seconds: 15)
        guard let final = self.progress, final.done == true else {
            throw RunnerError.noFinalLine(String(self.script.output.suffix(2000)) + "\n" + self.log.suffix(3000))
        }
        return (status, final)
    }
}

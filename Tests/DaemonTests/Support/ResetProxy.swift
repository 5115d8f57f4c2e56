import Foundation

/// `Tests/Scripts/reset_proxy.py` as a child process: a TCP relay in front of a daemon that resets every
/// connection through it on command (RST both ways), as a network failure would.
final class ResetProxy: @unchecked Sendable {
    private struct Listening: Decodable { var port: Int }
    private struct Reset: Decodable { var reset: Int }

    enum ProxyError: Error, CustomStringConvertible {
        case noPort(String)
        case noAnswer(String)
        var description: String {
            switch self {
            case .noPort(let log): return "reset_proxy.py never said its port:\n\(log)"
            case .noAnswer(let log): return "reset_proxy.py did not answer a reset:\n\(log)"
            }
        }
    }

    private let script: ScriptProcess
    let port: Int

    init(python: String, upstreamPort: Int) async throws {
        let path = NginxProxy.repositoryRoot.appendingPathComponent("Tests/Scripts/reset_proxy.py").path
        let script = try ScriptProcess(
            executable: python,
            arguments: [path, "--upstream", "127.0.0.1:\(upstreamPort)"]
        )
        let listening = await script.waitFor(seconds: 10, { script.last(Listening.self) }, { _ in true })
        guard let listening else { throw ProxyError.noPort(script.output + script.log) }
        self.script = script
        self.port = listening.port
    }

    /// The relay's stderr: refused upstream connections, resets.
    var log: String { self.script.log }

    /// Resets every live connection; returns how many there were.
    func reset() async throws -> Int {
        let answered = self.script.jsonLines.count
        self.script.send("reset")
        let answer = await self.script.waitFor(
            seconds: 10,
            { self.script.jsonLines.count > answered ? self.script.last(Reset.self) : nil },
            { _ in true }
        )
        guard let answer else { throw ProxyError.noAnswer(self.script.log) }
        return answer.reset
    }

    func stop() async {
        self.script.closeInput()
        await self.script.waitForExit(seconds: 5)
    }
}

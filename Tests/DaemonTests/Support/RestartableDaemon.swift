import Foundation
import Testing

/// One daemon position behind a proxy: the port stays, the process is replaced (a restart).
final class RestartableDaemon: @unchecked Sendable {
    let name: String
    let port: Int
    /// More options, for every process of this position (`--set key=value` …).
    let extraArguments: [String]
    var process: DaemonProcess
    /// Each finished process: exit status and the counters of its final log line.
    var lifetimes: [(status: Int32?, accepted: Int, delivered: Int, failed: Int)] = []

    static func arguments(bootstrap: String, port: Int, extra: [String]) -> [String] {
        [
            "--bootstrap-servers", bootstrap, "--host", "127.0.0.1", "--port", "\(port)",
            "--set", "log.level=info", "--set", "shutdown.drain_timeout_seconds=10",
        ] + extra
    }

    init(name: String, bootstrap: String, extraArguments: [String] = []) async throws {
        self.extraArguments = extraArguments
        let process = try DaemonProcess(
            arguments: Self.arguments(bootstrap: bootstrap, port: 0, extra: extraArguments)
        )
        self.name = name
        self.process = process
        self.port = try #require(await process.listeningPort(), "\(process.log.suffix(2000))")
    }

    /// SIGTERM, then wait for the drain to finish and the process to exit.
    func stop() async {
        self.process.signal(SIGTERM)
        let status = await self.process.waitForExit(seconds: 30)
        // The last log line ("stopped", with the counters) may still be on its way through the pipe.
        let process = self.process
        _ = await eventually(seconds: 5) { process.finalCounter("accepted") != nil }
        self.lifetimes.append(
            (
                status,
                self.process.finalCounter("accepted") ?? -1,
                self.process.finalCounter("delivered") ?? -1,
                self.process.finalCounter("failed") ?? -1
            )
        )
    }

    /// A new process on the same port (the upstream's address does not change).
    func start(bootstrap: String) async throws {
        self.process = try DaemonProcess(
            arguments: Self.arguments(bootstrap: bootstrap, port: self.port, extra: self.extraArguments)
        )
        let port = await self.process.listeningPort()
        try #require(port == self.port, "\(self.name) did not listen again: \(self.process.log.suffix(2000))")
    }

    /// Polls the daemon's own /ready (not through the proxy) until it answers 200.
    func waitUntilReady(seconds: Double = 20) async throws {
        let port = self.port
        let ready = await eventually(seconds: seconds) {
            let response = try? await onThread {
                try TestWebSocketClient(port: port, timeoutSeconds: 2).handshake(path: "/ready", headers: [])
            }
            return response?.status == 200
        }
        try #require(ready, "\(self.name) never became ready: \(self.process.log.suffix(2000))")
    }

    /// Open WebSocket connections, from the daemon's own /health.
    func connections() async -> Int {
        let port = self.port
        let response = try? await onThread {
            try TestWebSocketClient(port: port, timeoutSeconds: 2).handshake(path: "/health", headers: [])
        }
        guard let body = response?.body, let match = body.firstMatch(of: /"connections":(\d+)/) else {
            return -1
        }
        return Int(match.1) ?? -1
    }
}

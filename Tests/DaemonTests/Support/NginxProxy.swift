import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A throwaway nginx built from `config/nginx/kafka-chat-producer.conf`: TLS with a self-signed
/// certificate on a free loopback port, proxying to one daemon or several. It runs in the foreground as a child of
/// the test (`daemon off`), with every path under its own temporary directory.
final class NginxProxy: @unchecked Sendable {
    static let binary: String? = ["/usr/sbin/nginx", "/usr/bin/nginx", "/usr/local/sbin/nginx"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }

    static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
    }

    enum ProxyError: Error, CustomStringConvertible {
        case toolFailed(String, String)
        case templateChanged(String)
        case didNotStart(String)

        var description: String {
            switch self {
            case .toolFailed(let tool, let output): return "\(tool) failed: \(output)"
            case .templateChanged(let line):
                return "config/nginx/kafka-chat-producer.conf no longer has the line `\(line)` the test rewrites"
            case .didNotStart(let log): return "nginx did not start: \(log)"
            }
        }
    }

    let directory: URL
    let port: Int
    private let process: Process

    var certificate: URL { self.directory.appendingPathComponent("cert.pem") }
    var accessLog: String {
        (try? String(contentsOf: self.directory.appendingPathComponent("access.log"), encoding: .utf8)) ?? ""
    }
    var errorLog: String {
        (try? String(contentsOf: self.directory.appendingPathComponent("error.log"), encoding: .utf8)) ?? ""
    }

    /// Makes the certificate, writes the configuration and starts nginx; a port taken between choosing
    /// it and nginx binding it (another test, another process) is retried with a new one.
    static func start(upstreamPort: Int) async throws -> NginxProxy {
        try await Self.start(upstreamPorts: [upstreamPort])
    }

    /// The same with one upstream `server` per daemon, each with the shipped line's parameters (`max_fails`).
    static func start(upstreamPorts: [Int]) async throws -> NginxProxy {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "kcp-nginx-\(UUID().uuidString.prefix(8))"
        )
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try await Self.makeCertificate(in: directory)
        var lastLog = ""
        for _ in 0..<5 {
            let port = try unusedLoopbackPort()
            try Self.writeConfiguration(in: directory, port: port, upstreamPorts: upstreamPorts)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: Self.binary!)
            process.arguments = [
                "-p", directory.path + "/", "-c", directory.appendingPathComponent("nginx.conf").path,
                "-e", directory.appendingPathComponent("error.log").path, "-g", "daemon off;",
            ]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            let proxy = NginxProxy(directory: directory, port: port, process: process)
            if await proxy.waitUntilListening() { return proxy }
            lastLog = proxy.errorLog
            proxy.stop()
            guard lastLog.contains("Address already in use") else { break }
        }
        try? FileManager.default.removeItem(at: directory)
        throw ProxyError.didNotStart(lastLog)
    }

    private init(directory: URL, port: Int, process: Process) {
        self.directory = directory
        self.port = port
        self.process = process
    }

    deinit {
        self.stop()
        try? FileManager.default.removeItem(at: self.directory)
    }

    /// Graceful stop (SIGQUIT: finish open connections, then exit) of the one nginx this object started.
    func stop() {
        guard self.process.isRunning else { return }
        kill(self.process.processIdentifier, SIGQUIT)
        let deadline = Date().addingTimeInterval(5)
        while self.process.isRunning && Date() < deadline { usleep(20_000) }
        if self.process.isRunning { kill(self.process.processIdentifier, SIGKILL) }
        self.process.waitUntilExit()
    }

    private func waitUntilListening() async -> Bool {
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline && self.process.isRunning {
            if (try? TestWebSocketClient(port: self.port, timeoutSeconds: 1)) != nil { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return false
    }

    /// A self-signed certificate for `localhost` and 127.0.0.1 (EC P-256: generated in milliseconds).
    private static func makeCertificate(in directory: URL) async throws {
        let run = try await ToolRun.run(
            "openssl",
            [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1",
                "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                "-keyout", directory.appendingPathComponent("key.pem").path, "-out",
                directory.appendingPathComponent("cert.pem").path,
            ]
        )
        guard run.status == 0 else { throw ProxyError.toolFailed("openssl req -x509", run.output) }
    }

    private static var shippedSite: String {
        get throws {
            try String(
                contentsOf: Self.repositoryRoot.appendingPathComponent("config/nginx/kafka-chat-producer.conf"),
                encoding: .utf8
            )
        }
    }

    /// The upstream's `server` lines of the shipped site: the daemon's address and the parameters after it.
    private static func upstreamServers(in site: String) -> [(line: String, parameters: String)] {
        site.split(separator: "\n").compactMap { line in
            guard let match = line.wholeMatch(of: /\s*server\s+\S+:8000(?<parameters>[^;]*);\s*/) else { return nil }
            return (String(line), String(match.parameters))
        }
    }

    /// The shipped site file with only its deployment-specific lines replaced, inside a minimal main
    /// configuration that keeps every path (pid, logs, temporary files) in `directory`. The upstream's
    /// `server` lines become one line per port on 127.0.0.1, with the first shipped line's parameters.
    private static func writeConfiguration(in directory: URL, port: Int, upstreamPorts: [Int]) throws {
        var site = try Self.shippedSite
        let servers = Self.upstreamServers(in: site)
        guard let first = servers.first else { throw ProxyError.templateChanged("server …:8000 …;") }
        var lines = site.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let firstIndex = lines.firstIndex(of: first.line)!
        lines.removeAll { line in servers.contains { $0.line == line } }
        lines.insert(
            contentsOf: upstreamPorts.map { "    server 127.0.0.1:\($0)\(first.parameters);" },
            at: firstIndex
        )
        site = lines.joined(separator: "\n")
        let path = directory.path
        for (line, replacement) in [
            ("listen 443 ssl http2;", "listen 127.0.0.1:\(port) ssl http2;"),
            ("listen [::]:443 ssl http2;", ""),
            ("server_name chat.example.com;", "server_name localhost;"),
            ("ssl_certificate     /etc/ssl/certs/chat.example.com.pem;", "ssl_certificate \(path)/cert.pem;"),
            ("ssl_certificate_key /etc/ssl/private/chat.example.com.key;", "ssl_certificate_key \(path)/key.pem;"),
            (
                "access_log /var/log/nginx/kafka-chat-producer.access.log kcp_no_query;",
                "access_log \(path)/access.log kcp_no_query;"
            ),
        ] {
            guard site.components(separatedBy: line).count == 2 else { throw ProxyError.templateChanged(line) }
            site = site.replacingOccurrences(of: line, with: replacement)
        }
        try site.write(to: directory.appendingPathComponent("site.conf"), atomically: true, encoding: .utf8)
        let main = """
            worker_processes 1;
            pid \(path)/nginx.pid;
            error_log \(path)/error.log info;
            events { worker_connections 64; }
            http {
                access_log off;
                client_body_temp_path \(path)/client_body;
                proxy_temp_path \(path)/proxy;
                fastcgi_temp_path \(path)/fastcgi;
                uwsgi_temp_path \(path)/uwsgi;
                scgi_temp_path \(path)/scgi;
                include \(path)/site.conf;
            }

            """
        try main.write(to: directory.appendingPathComponent("nginx.conf"), atomically: true, encoding: .utf8)
    }
}

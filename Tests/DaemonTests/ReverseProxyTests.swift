import Foundation
import Testing

extension IntegrationTests {
    /// TLS is terminated by a reverse proxy, not by the daemon: this runs the shipped nginx site
    /// (config/nginx/kafka-chat-producer.conf) in front of a daemon and talks WebSocket over TLS to it.
    ///
    /// The client is `Tests/Scripts/wss_client.py` (Python's ssl and socket modules): it verifies the
    /// certificate, does the RFC 6455 handshake by hand, sends one masked frame and prints the answer as
    /// JSON — deterministic, unlike driving the interactive `openssl s_client` through a pipe, where
    /// sending a binary masked frame and knowing when the reply is complete both need timing guesses.
    @Suite("reverse proxy: TLS in nginx, X-Forwarded-For")
    struct ReverseProxy {
        static let token = "proxy-test-token-0123456789"

        struct ClientResult: Decodable {
            var status: Int
            var acceptOK: Bool?
            var reply: String?
            var headers: [String: String]?
            var body: String?
            var tls: String?

            /// `wss_client.py` writes snake_case keys.
            enum CodingKeys: String, CodingKey {
                case status, reply, headers, body, tls
                case acceptOK = "accept_ok"
            }
        }

        /// Runs the Python client; `--source-address 127.0.0.2` makes the client distinguishable from nginx.
        static func client(port: Int, certificate: URL, path: String, headers: [String]) async throws -> ClientResult {
            let script = NginxProxy.repositoryRoot.appendingPathComponent("Tests/Scripts/wss_client.py").path
            var arguments = [
                script, "--port", "\(port)", "--cafile", certificate.path, "--path", path, "--source-address",
                "127.0.0.2",
            ]
            for header in headers { arguments += ["--header", header] }
            let run = try await ToolRun.run("python3", arguments)
            guard run.status == 0, let line = run.lines.last else {
                throw NginxProxy.ProxyError.toolFailed("wss_client.py", run.output)
            }
            return try JSONDecoder().decode(ClientResult.self, from: Data(line.utf8))
        }

        @Test(
            "wss:// through nginx: ack, record in Kafka, the client address from X-Forwarded-For, errors passed through",
            .enabled(
                if: NginxProxy.binary != nil,
                "nginx is not installed: run scripts/install-deps (Debian package nginx)"
            )
        )
        func throughNginx() async throws {
            let credentials = try TestCredentials()
            defer { credentials.remove() }
            let chat = uniqueChat("tls")
            try credentials.writeTokens(["\(Self.token) \(chat)"])
            let log = LogCapture()
            let daemon = try await RunningDaemon.start(
                topics: ["kafka.chat.\(chat)"],
                logger: log.logger(level: .debug)
            ) {
                $0.trustedProxies = "127.0.0.1"
                $0.authTokensFile = credentials.tokensFile.path
            }
            let proxy = try await NginxProxy.start(upstreamPort: daemon.port)

            // The client also claims an address of its own: nginx appends the one it saw, and that is the one believed.
            let accepted = try await Self.client(
                port: proxy.port,
                certificate: proxy.certificate,
                path: "/send-message/chat/\(chat)?ack=1",
                headers: ["Authorization: Bearer \(Self.token)", "X-Forwarded-For: 198.51.100.66"]
            )
            print(
                "REVERSE-PROXY accepted: status=\(accepted.status) tls=\(accepted.tls ?? "?") reply=\(accepted.reply ?? "")"
            )
            #expect(accepted.status == 101)
            #expect(accepted.acceptOK == true)
            #expect(
                accepted.reply?.hasPrefix(#"{"ack":1,"partition":"#) == true,
                "\(String(describing: accepted.reply))"
            )
            #expect(accepted.tls == "TLSv1.3" || accepted.tls == "TLSv1.2")

            // A refusal reaches the client unchanged: status, challenge, JSON reason.
            let refused = try await Self.client(
                port: proxy.port,
                certificate: proxy.certificate,
                path: "/send-message/chat/\(chat)?access_token=wrong-token-0123456789",
                headers: []
            )
            print(
                "REVERSE-PROXY refused: status=\(refused.status) www-authenticate=\(refused.headers?["www-authenticate"] ?? "") body=\(refused.body ?? "")"
            )
            #expect(refused.status == 401)
            #expect(refused.headers?["www-authenticate"]?.contains(#"error="invalid_token""#) == true)
            #expect(refused.body?.contains(#""code":"unauthorized""#) == true)

            let values = try daemon.values(in: "kafka.chat.\(chat)", expecting: 1)
            #expect(values == [#"{"sender":"alice","text":"hello over TLS","tag":"tls"}"#])
            proxy.stop()
            try await daemon.stop()

            let authorized = log.lines.filter { $0.contains("websocket handshake authorized") }
            #expect(authorized.count == 1)
            #expect(authorized.first?.contains("client=127.0.0.2 via 127.0.0.1") == true, "\(authorized)")
            let refusedLine = log.lines.first { $0.contains("websocket handshake refused") }
            #expect(
                refusedLine?.contains("client=127.0.0.2 via 127.0.0.1") == true,
                "\(String(describing: refusedLine))"
            )
            // The shipped log format keeps ?access_token=… out of nginx's access log.
            #expect(proxy.accessLog.contains("/send-message/chat/\(chat)"))
            #expect(!proxy.accessLog.contains("wrong-token-0123456789"))
            #expect(!proxy.accessLog.contains("access_token"))
        }
    }
}

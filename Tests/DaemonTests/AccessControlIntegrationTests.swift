import Daemon
import Foundation
import Testing

extension IntegrationTests {
    /// Authentication and the Origin allowlist on a live daemon: the status, header and reason each
    /// failure gets, the counters, what is delivered, and that no token reaches the log.
    @Suite("access control: tokens, JWTs, Origin")
    struct AccessControl {
        typealias Client = TestWebSocketClient

        static let staticToken = "static-token-0123456789-abcdef"
        static let otherToken = "other-token-0123456789-abcdef"

        static func request(_ port: Int, _ path: String, _ extra: [(String, String)]) throws -> Client.HTTPResponse {
            try Client(port: port).handshake(path: path, headers: Client.defaultHandshakeHeaders + extra)
        }

        static func error(_ body: String) -> (code: String?, message: String?) {
            let object = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
            let error = object?["error"] as? [String: Any]
            return (error?["code"] as? String, error?["message"] as? String)
        }

        static func message(_ text: String) -> String {
            #"{"sender":"s","text":"\#(text)","tag":"auth"}"#
        }

        @Test(
            "401 without or with a bad token, 403 for another chat or origin, 101 and delivery with a valid one; no token in the log"
        )
        func tokens() async throws {
            let credentials = try TestCredentials()
            defer { credentials.remove() }
            let chat = uniqueChat("auth")
            let other = uniqueChat("other")
            try credentials.writeTokens(["# test tokens", "\(Self.staticToken) \(chat)", "\(Self.otherToken) \(other)"])
            let valid = try await TestCredentials.jwt(chats: [chat])
            let expired = try await TestCredentials.jwt(chats: [chat], lifetime: -3600)
            let elsewhere = try await TestCredentials.jwt(chats: [other])
            let log = LogCapture()
            let daemon = try await RunningDaemon.start(
                topics: ["kafka.chat.\(chat)"],
                logger: log.logger(level: .debug)
            ) {
                $0.authTokensFile = credentials.tokensFile.path
                $0.jwtHS256SecretFile = credentials.secretFile.path
                $0.jwtAudience = TestCredentials.audience
                $0.allowedOrigins = "https://chat.example.com"
            }
            let port = daemon.port
            let path = "/send-message/chat/\(chat)"

            try await onThread {
                let missing = try Self.request(port, path, [])
                #expect(missing.status == 401)
                #expect(missing.header("WWW-Authenticate") == #"Bearer realm="kafka-chat-producer""#)
                #expect(Self.error(missing.body).code == "unauthorized")

                let stale = try Self.request(port, path, [("Authorization", "Bearer \(expired)")])
                #expect(stale.status == 401)
                #expect(stale.header("WWW-Authenticate")?.contains(#"error="invalid_token""#) == true)
                #expect(Self.error(stale.body) == ("unauthorized", "the token has expired"))

                let unknown = try Self.request(port, "\(path)?access_token=not-a-known-token-123456", [])
                #expect(unknown.status == 401)

                let wrongChat = try Self.request(port, path, [("Authorization", "Bearer \(Self.otherToken)")])
                #expect(wrongChat.status == 403)
                #expect(Self.error(wrongChat.body).code == "forbidden")
                #expect(wrongChat.header("WWW-Authenticate")?.contains(#"error="insufficient_scope""#) == true)

                let wrongJWTChat = try Self.request(port, path, [("Authorization", "Bearer \(elsewhere)")])
                #expect(wrongJWTChat.status == 403)

                let badOrigin = try Self.request(
                    port,
                    path,
                    [("Origin", "https://evil.example"), ("Authorization", "Bearer \(Self.staticToken)")]
                )
                #expect(badOrigin.status == 403)
                #expect(Self.error(badOrigin.body).code == "origin_not_allowed")

                // A non-browser client (no Origin) with the static token in the header.
                let header = try Client.connect(
                    port: port,
                    path: "\(path)?ack=1",
                    headers: Client.defaultHandshakeHeaders + [("Authorization", "Bearer \(Self.staticToken)")]
                )
                try header.sendText(Self.message("static"))
                #expect(try header.receiveText().hasPrefix(#"{"ack":1,"#))

                // A browser: the JWT in the query, from an allowed page.
                let query = try Client.connect(
                    port: port,
                    path: "\(path)?ack=1&access_token=\(valid)",
                    headers: Client.defaultHandshakeHeaders + [("Origin", "https://chat.example.com")]
                )
                try query.sendText(Self.message("jwt"))
                #expect(try query.receiveText().hasPrefix(#"{"ack":1,"#))
            }

            let values = try daemon.values(in: "kafka.chat.\(chat)", expecting: 2)
            #expect(Set(values) == [Self.message("static"), Self.message("jwt")])
            let rejections = Dictionary(
                uniqueKeysWithValues: daemon.daemon.metrics.connections.rejections().map { ($0.reason.label, $0.count) }
            )
            #expect(rejections["unauthorized"] == 3)
            #expect(rejections["forbidden"] == 2)
            #expect(rejections["origin_not_allowed"] == 1)
            try await daemon.stop()

            let lines = log.lines
            let refused = lines.filter { $0.contains("websocket handshake refused") }
            #expect(refused.count == 6, "\(refused)")
            #expect(
                refused.contains {
                    $0.contains("detail=expired") && $0.contains("chat=\(chat)") && $0.contains("client=127.0.0.1")
                        && $0.contains("credential=sha256:")
                }
            )
            #expect(
                refused.contains {
                    $0.contains("reason=origin_not_allowed") && $0.contains("origin=https://evil.example")
                }
            )
            #expect(lines.contains { $0.contains("websocket handshake authorized") && $0.contains("subject=tester") })
            // The log never holds a token, nor a JWT's signature on its own.
            for secret in [Self.staticToken, Self.otherToken, "not-a-known-token-123456", TestCredentials.secret]
                + [valid, expired, elsewhere].flatMap({ [$0, String($0.split(separator: ".")[2])] })
            {
                #expect(!lines.contains { $0.contains(secret) }, "a log line holds \(secret.prefix(12))…")
            }
        }

        @Test(
            "a connection opened with a JWT is closed with 1008 when the token expires; one with a static token stays"
        )
        func tokenExpiry() async throws {
            let credentials = try TestCredentials()
            defer { credentials.remove() }
            let chat = uniqueChat("expiry")
            try credentials.writeTokens(["\(Self.staticToken) \(chat)"])
            let shortLived = try await TestCredentials.jwt(chats: [chat], lifetime: 2)
            let daemon = try await RunningDaemon.start(topics: ["kafka.chat.\(chat)"]) {
                $0.authTokensFile = credentials.tokensFile.path
                $0.jwtHS256SecretFile = credentials.secretFile.path
                $0.jwtAudience = TestCredentials.audience
                $0.jwtLeewaySeconds = 0
            }
            let port = daemon.port
            let path = "/send-message/chat/\(chat)?ack=1"
            try await onThread {
                let jwt = try Client.connect(
                    port: port,
                    path: path,
                    headers: Client.defaultHandshakeHeaders + [("Authorization", "Bearer \(shortLived)")]
                )
                let staticClient = try Client.connect(
                    port: port,
                    path: path,
                    headers: Client.defaultHandshakeHeaders + [("Authorization", "Bearer \(Self.staticToken)")]
                )
                try jwt.sendText(Self.message("before expiry"))
                #expect(try jwt.receiveText().hasPrefix(#"{"ack":1,"#))
                let started = Date()
                let close = try jwt.receiveClose()
                #expect(close.code == 1008)
                #expect(close.reason == "token expired: reconnect with a fresh token to go on sending")
                // Expiry in 2 s (minus the time spent so far), seen by a sweep at most 1 s later.
                #expect(Date().timeIntervalSince(started) < 4)
                try staticClient.sendText(Self.message("static after"))
                #expect(try staticClient.receiveText().hasPrefix(#"{"ack":1,"#))
            }
            let values = try daemon.values(in: "kafka.chat.\(chat)", expecting: 2)
            #expect(Set(values) == [Self.message("before expiry"), Self.message("static after")])
            let closes = daemon.daemon.metrics.connections.closes().first { $0.reason.label == "credential_expired" }
            #expect(closes?.count == 1)
            try await daemon.stop()
        }

        @Test("http.require_origin refuses handshakes without an Origin; auth stays off")
        func requireOrigin() async throws {
            let daemon = try await RunningDaemon.start {
                $0.requireOrigin = true
            }
            let port = daemon.port
            try await onThread {
                let none = try Self.request(port, "/send-message/global", [])
                #expect(none.status == 403)
                #expect(Self.error(none.body).code == "origin_not_allowed")
                _ = try Client.connect(
                    port: port,
                    path: "/send-message/global",
                    headers: Client.defaultHandshakeHeaders + [("Origin", "https://any.example")]
                )
            }
            try await daemon.stop()
        }
    }
}

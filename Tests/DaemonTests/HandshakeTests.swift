import Foundation
import Testing

extension IntegrationTests {
    @Suite("HTTP routes and WebSocket handshakes")
    struct Handshake {
        static func request(
            _ port: Int,
            _ path: String,
            headers: [(String, String)]? = nil,
            method: String = "GET"
        ) throws -> TestWebSocketClient.HTTPResponse {
            try TestWebSocketClient(port: port).handshake(path: path, headers: headers, method: method)
        }

        @Test("GET /health answers 200 with JSON")
        func health() async throws {
            let daemon = try await RunningDaemon.start()
            let port = daemon.port
            let response = try await onThread { try Self.request(port, "/health", headers: []) }
            #expect(response.status == 200)
            let object = try JSONSerialization.jsonObject(with: Data(response.body.utf8)) as? [String: Any]
            #expect(object?["status"] as? String == "ok")
            try await daemon.stop()
        }

        @Test("bad requests get the right status and a reason")
        func rejections() async throws {
            let daemon = try await RunningDaemon.start()
            let port = daemon.port
            try await onThread {
                let unknown = try Self.request(port, "/nope")
                #expect(unknown.status == 404)
                #expect(unknown.body.contains("not_found"))

                let badChat = try Self.request(port, "/send-message/chat/bad%20name")
                #expect(badChat.status == 400)
                #expect(badChat.body.contains("' '"))

                let dotChat = try Self.request(port, "/send-message/chat/a:b")
                #expect(dotChat.status == 400)

                // Dot-segments, literal or percent-encoded: never a topic kafka.chat.. / kafka.chat...
                for path in [
                    "/send-message/chat/.", "/send-message/chat/..", "/send-message/chat/%2E",
                    "/send-message/chat/%2e%2E",
                ] {
                    let dots = try Self.request(port, path)
                    #expect(dots.status == 400, "\(path)")
                    #expect(dots.body.contains("invalid_chat"), "\(path)")
                    #expect(dots.body.contains("dot-segment"), "\(path)")
                }

                let longChat = try Self.request(port, "/send-message/chat/" + String(repeating: "x", count: 239))
                #expect(longChat.status == 400)

                let nested = try Self.request(port, "/send-message/chat/a/b")
                #expect(nested.status == 404)

                let plainGet = try Self.request(port, "/send-message/global", headers: [])
                #expect(plainGet.status == 426)
                #expect(plainGet.header("Sec-WebSocket-Version") == "13")

                let oldVersion = try Self.request(
                    port,
                    "/send-message/global",
                    headers: [
                        ("Upgrade", "websocket"), ("Connection", "Upgrade"),
                        ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="), ("Sec-WebSocket-Version", "8"),
                    ]
                )
                #expect(oldVersion.status == 426)
                #expect(oldVersion.header("Sec-WebSocket-Version") == "13")

                let badKey = try Self.request(
                    port,
                    "/send-message/global",
                    headers: [
                        ("Upgrade", "websocket"), ("Connection", "Upgrade"),
                        ("Sec-WebSocket-Key", "short"), ("Sec-WebSocket-Version", "13"),
                    ]
                )
                #expect(badKey.status == 400)
                #expect(badKey.body.contains("Sec-WebSocket-Key"))

                let post = try Self.request(port, "/send-message/global", method: "POST")
                #expect(post.status == 405)

                let badAck = try Self.request(port, "/send-message/global?ack=maybe")
                #expect(badAck.status == 400)

                let upgraded = try Self.request(port, "/send-message/chat/ok.chat_name-1")
                #expect(upgraded.status == 101)
                #expect(upgraded.header("Sec-WebSocket-Accept") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
            }
            try await daemon.stop()
            #expect(daemon.counters.accepted == 0)
        }

        @Test("a new chat beyond the buffer budget gets 503; idle rings are reclaimed")
        func budget() async throws {
            let daemon = try await RunningDaemon.start {
                $0.ringBytes = 1 << 16
                $0.budgetBytes = 2 << 16
                $0.idleRingSeconds = 0
                $0.maxMessageBytes = 4096
            }
            let port = daemon.port
            let first = try await onThread { () -> TestWebSocketClient in
                let first = try TestWebSocketClient.connect(port: port, path: "/send-message/chat/budget-a")
                var second: TestWebSocketClient? = try TestWebSocketClient.connect(
                    port: port,
                    path: "/send-message/chat/budget-b"
                )
                let refused = try Self.request(port, "/send-message/chat/budget-c")
                #expect(refused.status == 503)
                #expect(refused.header("Retry-After") != nil)
                // Another connection to an existing chat shares its ring and is fine.
                _ = try TestWebSocketClient.connect(port: port, path: "/send-message/chat/budget-a")
                try second!.sendClose(code: 1000)
                _ = second!.waitForEOF()
                second = nil
                return first
            }
            #expect(await eventually { daemon.daemon.bufferUsage.topics == 1 })
            try await onThread {
                _ = try TestWebSocketClient.connect(port: port, path: "/send-message/chat/budget-c")
            }
            _ = first
            try await daemon.stop()
        }
    }
}

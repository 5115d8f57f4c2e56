import Foundation
import Kafka
import Testing

extension IntegrationTests {
    /// `systemctl reload` as systemd does it: SIGHUP to the real binary, with a notify socket standing in
    /// for systemd, a configuration file and a tokens file rewritten in between.
    @Suite("reload: SIGHUP re-reads the configuration and the token files")
    struct Reload {
        typealias Client = TestWebSocketClient

        static let keptToken = "kept-token-0123456789-abcdef"
        static let removedToken = "removed-token-0123456789-abcdef"

        static func message(_ text: String) -> String {
            #"{"sender":"s","text":"\#(text)","tag":"reload"}"#
        }

        static func headers(_ token: String) -> [(String, String)] {
            Client.defaultHandshakeHeaders + [("Authorization", "Bearer \(token)")]
        }

        static func metric(_ port: Int, _ line: String) throws -> Bool {
            let body = try Client(port: port).handshake(path: "/metrics", headers: []).body
            return body.split(separator: "\n").contains { $0.hasPrefix(line) }
        }

        @Test(
            "a reload revokes a removed token and a disallowed chat with 1008, keeps the rest, logs restart-only keys; a bad file is refused whole"
        )
        func reload() async throws {
            let broker = try MockCluster(brokers: 1)
            let credentials = try TestCredentials()
            defer { credentials.remove() }
            let (kept, dropped) = (uniqueChat("kept"), uniqueChat("dropped"))
            try credentials.writeTokens(["\(Self.keptToken) *", "\(Self.removedToken) \(kept)"])
            let configFile = credentials.directory.appendingPathComponent("kafka-chat-producer.conf")
            let base = [
                "listen.host = 127.0.0.1", "listen.port = 0", "kafka.bootstrap_servers = \(broker.bootstrapServers)",
                "auth.tokens_file = \(credentials.tokensFile.path)", "topics.allowed_chats = \(kept),\(dropped)",
            ]
            try (base.joined(separator: "\n") + "\n").write(to: configFile, atomically: true, encoding: .utf8)
            let notify = try NotifySocket()
            let process = try DaemonProcess(
                arguments: ["--config", configFile.path],
                environment: ["NOTIFY_SOCKET": notify.path]
            )
            let started = try await onThread { notify.receive(until: 15) { $0.contains { $0.contains("READY=1") } } }
            #expect(started.contains { $0.contains("READY=1") }, "\(process.log.suffix(1500))")
            let port = try #require(await process.listeningPort())

            let (revoked, disallowed, staying) = try await onThread {
                (
                    try Client.connect(
                        port: port,
                        path: "/send-message/chat/\(kept)?ack=1",
                        headers: Self.headers(Self.removedToken)
                    ),
                    try Client.connect(
                        port: port,
                        path: "/send-message/chat/\(dropped)?ack=1",
                        headers: Self.headers(Self.keptToken)
                    ),
                    try Client.connect(
                        port: port,
                        path: "/send-message/chat/\(kept)?ack=1",
                        headers: Self.headers(Self.keptToken)
                    )
                )
            }

            // Handshakes are logged at debug only: nothing yet at the default level.
            #expect(!process.log.contains("websocket handshake authorized"))
            // The removed token's line goes, the dropped chat leaves the allowlist, the log level rises, and a
            // restart-only key changes.
            try credentials.writeTokens(["\(Self.keptToken) *"])
            let reloaded =
                base.dropLast() + ["topics.allowed_chats = \(kept)", "log.level = debug", "kafka.linger_ms = 20"]
            try (reloaded.joined(separator: "\n") + "\n").write(to: configFile, atomically: true, encoding: .utf8)
            process.signal(SIGHUP)
            let reloading = try await onThread {
                notify.receive(until: 10) { $0.contains { $0.contains("READY=1") } }
            }
            let reloadingIndex = try #require(
                reloading.firstIndex { $0.contains("RELOADING=1") },
                "\(reloading) \(process.log.suffix(1500))"
            )
            #expect(reloading[reloadingIndex].contains(/MONOTONIC_USEC=\d+/))
            let readyIndex = try #require(reloading.firstIndex { $0.contains("READY=1") })
            #expect(reloadingIndex < readyIndex)
            #expect(reloading[readyIndex].contains("STATUS=reloaded; restart needed for kafka.linger_ms"))

            try await onThread {
                let revokedClose = try revoked.receiveClose()
                #expect(revokedClose.code == 1008)
                #expect(revokedClose.reason == "the token is no longer accepted: reconnect with a valid token")
                let disallowedClose = try disallowed.receiveClose()
                #expect(disallowedClose.code == 1008)
                #expect(disallowedClose.reason == "this chat is no longer allowed by the server's configuration")
                try staying.sendText(Self.message("after reload"))
                let reply = try staying.receiveText()
                #expect(reply.hasPrefix(#"{"ack":1,"#), "\(reply)")
                // New handshakes see the new files.
                let refused = try Client(port: port).handshake(
                    path: "/send-message/chat/\(kept)",
                    headers: Self.headers(Self.removedToken)
                )
                #expect(refused.status == 401)
                _ = try Client.connect(
                    port: port,
                    path: "/send-message/chat/\(kept)",
                    headers: Self.headers(Self.keptToken)
                )
                #expect(try Self.metric(port, #"kcp_config_reloads_total{result="success"} 1"#))
                #expect(try Self.metric(port, "kcp_config_restart_pending 1"))
            }
            #expect(process.log.contains("configuration reloaded"))
            #expect(
                process.log.contains(/changed=topics.allowed_chats,log.level closedConnections=2/),
                "\(process.log.suffix(2000))"
            )
            #expect(process.log.contains(/keys=kafka.linger_ms .*take effect only after a restart/))
            #expect(process.log.contains("websocket handshake authorized"), "log.level = debug was not applied")

            // A bad value on line 8: refused whole, named by file and line; the old configuration stays.
            try ((reloaded + ["limits.max_connections = lots"]).joined(separator: "\n") + "\n").write(
                to: configFile,
                atomically: true,
                encoding: .utf8
            )
            try credentials.writeTokens([])  // would refuse everyone, but is never applied
            process.signal(SIGHUP)
            let refusedReload = try await onThread {
                notify.receive(until: 10) { $0.contains { $0.contains("READY=1") } }
            }
            let status = try #require(refusedReload.first { $0.contains("READY=1") }, "\(process.log.suffix(1500))")
            #expect(status.contains("STATUS=reload refused, old configuration in force"))
            #expect(status.contains("\(configFile.path):8"), "\(status)")
            #expect(process.log.contains("configuration reload refused"))
            try await onThread {
                try staying.sendText(Self.message("after refused reload"))
                let reply = try staying.receiveText()
                #expect(reply.hasPrefix(#"{"ack":2,"#), "\(reply)")
                #expect(try Self.metric(port, #"kcp_config_reloads_total{result="failure"} 1"#))
                #expect(try Self.metric(port, "kcp_config_last_reload_successful 0"))
            }
            process.signal(SIGTERM)
            #expect(await process.waitForExit(seconds: 20) == 0)
        }
    }
}

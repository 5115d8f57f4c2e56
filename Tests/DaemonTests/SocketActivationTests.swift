import Foundation
import Kafka
import Testing

#if canImport(Glibc)
import Glibc
#endif

extension IntegrationTests {
    @Suite("systemd: socket activation")
    struct SocketActivationSuite {
        /// Plays systemd: binds a listening socket (port 0), hands it to the daemon as fd 3 with
        /// LISTEN_FDS=1 and LISTEN_PID set to the daemon's own pid (via `sh -c 'LISTEN_PID=$$ exec …'`).
        @Test("a socket passed with LISTEN_FDS is served instead of binding")
        func servesPassedSocket() async throws {
            let broker = try MockCluster(brokers: 1)
            let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = 0
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            try withUnsafeMutablePointer(to: &address) { pointer in
                try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                    guard bind(listener, raw, length) == 0, listen(listener, 128) == 0,
                        getsockname(listener, raw, &length) == 0
                    else {
                        throw TestWebSocketClient.ClientError.connectFailed(errno)
                    }
                }
            }
            let port = Int(UInt16(bigEndian: address.sin_port))
            let logPath = NSTemporaryDirectory() + "kcp-activation-\(UUID().uuidString.prefix(8)).log"
            let logFD = open(logPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)

            var actions = posix_spawn_file_actions_t()
            posix_spawn_file_actions_init(&actions)
            posix_spawn_file_actions_adddup2(&actions, listener, 3)
            posix_spawn_file_actions_adddup2(&actions, logFD, 1)
            posix_spawn_file_actions_adddup2(&actions, logFD, 2)
            let arguments = [
                "/bin/sh", "-c", "LISTEN_PID=$$ LISTEN_FDS=1 exec \"$0\" \"$@\"", DaemonProcess.binary.path,
                "--bootstrap-servers", broker.bootstrapServers, "--host", "127.0.0.1", "--port", "1",
            ]
            var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
            defer { for argument in argv { free(argument) } }
            var pid: pid_t = 0
            let spawned = posix_spawn(&pid, "/bin/sh", &actions, nil, &argv, environ)
            posix_spawn_file_actions_destroy(&actions)
            close(logFD)
            close(listener)
            try #require(spawned == 0)
            defer { unlink(logPath) }

            // `--port 1` would fail to bind if the daemon tried: only the passed socket can answer.
            let reply = try await onThread { () -> String in
                var lastError: (any Error)?
                for _ in 0..<100 {
                    do {
                        let client = try TestWebSocketClient.connect(port: port, path: "/send-message/global?ack=1")
                        try client.sendText(#"{"sender":"a","text":"activated","tag":"t"}"#)
                        return try client.receiveText()
                    } catch {
                        lastError = error
                        Thread.sleep(forTimeInterval: 0.1)
                    }
                }
                throw lastError!
            }
            #expect(reply.hasPrefix(#"{"ack":1,"#))
            kill(pid, SIGTERM)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
            let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
            #expect(status == 0, "\(log.suffix(1500))")
            #expect(log.contains("socket activation"))
        }
    }
}

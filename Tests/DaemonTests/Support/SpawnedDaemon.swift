import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The real binary started the way systemd starts it when it passes sockets: `passing` becomes fds 3, 4, …
/// with `LISTEN_FDS`, `LISTEN_FDNAMES` and `LISTEN_PID` set to the daemon's own pid (through
/// `sh -c 'LISTEN_PID=$$ exec …'`); no other descriptor of the test process leaks into it. Output goes to a
/// file, read by `log`.
final class SpawnedDaemon: @unchecked Sendable {
    let pid: pid_t
    private let logPath = NSTemporaryDirectory() + "kcp-spawned-\(UUID().uuidString.prefix(8)).log"
    private var exitStatus: Int32?

    convenience init(
        arguments: [String],
        environment: [String: String] = [:],
        passing fd: Int32,
        fdName: String
    )
        throws
    {
        try self.init(arguments: arguments, environment: environment, passing: [(fd, fdName)])
    }

    init(arguments: [String], environment: [String: String] = [:], passing: [(fd: Int32, name: String)] = []) throws {
        var env = ProcessInfo.processInfo.environment.filter {
            !$0.key.hasPrefix("KCP_") && !$0.key.hasPrefix("LISTEN_")
        }
        env.merge(environment) { $1 }
        var script = "exec \"$0\" \"$@\""
        if !passing.isEmpty {
            env["LISTEN_FDS"] = "\(passing.count)"
            env["LISTEN_FDNAMES"] = passing.map(\.name).joined(separator: ":")
            script = "LISTEN_PID=$$ " + script
        }
        let logFD = open(self.logPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard logFD >= 0 else { throw TestWebSocketClient.ClientError.connectFailed(errno) }
        defer { close(logFD) }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, logFD, 1)
        posix_spawn_file_actions_adddup2(&actions, logFD, 2)
        for (index, passed) in passing.enumerated() {
            posix_spawn_file_actions_adddup2(&actions, passed.fd, 3 + Int32(index))
        }
        // The test's own sockets (clients, the notify socket) must not live on in the daemon.
        // glibc ≥ 2.34 has posix_spawn_file_actions_addclosefrom_np, which Swift's Glibc module leaves out.
        typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
        let closeFrom = try #require(dlsym(nil, "posix_spawn_file_actions_addclosefrom_np"))
        _ = unsafeBitCast(closeFrom, to: CloseFrom.self)(&actions, 3 + Int32(passing.count))
        let argumentList = ["/bin/sh", "-c", script, DaemonProcess.binary.path] + arguments
        var argv: [UnsafeMutablePointer<CChar>?] = argumentList.map { strdup($0) } + [nil]
        var envp: [UnsafeMutablePointer<CChar>?] = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, "/bin/sh", &actions, nil, &argv, &envp)
        guard spawned == 0 else { throw TestWebSocketClient.ClientError.connectFailed(spawned) }
        self.pid = pid
    }

    deinit {
        if self.exitStatus == nil {
            kill(self.pid, SIGKILL)
            var status: Int32 = 0
            waitpid(self.pid, &status, 0)
        }
        unlink(self.logPath)
    }

    var log: String { (try? String(contentsOfFile: self.logPath, encoding: .utf8)) ?? "" }

    func signal(_ signal: Int32) {
        kill(self.pid, signal)
    }

    /// The exit status, or nil (and SIGKILL) if it did not exit within `seconds`.
    func waitForExit(seconds: Double) async -> Int32? {
        if let exitStatus { return exitStatus }
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while ContinuousClock.now < deadline {
            var status: Int32 = 0
            if waitpid(self.pid, &status, WNOHANG) == self.pid {
                // WIFEXITED / WEXITSTATUS; a signal death reads as 128 + the signal, like a shell.
                let code = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
                self.exitStatus = code
                return code
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
        kill(self.pid, SIGKILL)
        var status: Int32 = 0
        waitpid(self.pid, &status, 0)
        self.exitStatus = -1
        return nil
    }

    /// A line of the log containing `text`, once it appears.
    func logLine(containing text: String, seconds: Double = 20) async -> String? {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while ContinuousClock.now < deadline {
            if let line = self.log.split(separator: "\n").first(where: { $0.contains(text) }) { return String(line) }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return nil
    }

    /// A counter from the final "stopped" log line.
    func finalCounter(_ name: String) -> Int? {
        guard
            let line = self.log.split(separator: "\n").last(where: {
                $0.contains("stopped") && $0.contains("accepted=")
            }),
            let match = line.firstMatch(of: try! Regex("\(name)=(\\d+)"))
        else { return nil }
        return Int(match.output[1].substring!)
    }
}

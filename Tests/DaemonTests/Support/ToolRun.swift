import Foundation

/// A command-line tool run to completion (make, systemd-analyze, systemd-sysusers…). stdout and stderr
/// are read together: these tools print their warnings on either.
struct ToolRun: Sendable {
    let status: Int32
    let output: String

    var lines: [String] {
        self.output.split(separator: "\n").map(String.init).filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
    }

    /// Finds `tool` on PATH. Runs on its own thread (see `onThread`): `make install` copies a large binary
    /// and must not park the cooperative pool meanwhile.
    static func run(
        _ tool: String,
        _ arguments: [String],
        environment: [String: String] = [:],
        removing: Set<String> = [],
        directory: URL? = nil
    ) async throws -> ToolRun {
        try await onThread {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [tool] + arguments
            if let directory { process.currentDirectoryURL = directory }
            var env = ProcessInfo.processInfo.environment.filter { !removing.contains($0.key) }
            env.merge(environment) { $1 }
            process.environment = env
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = pipe
            try process.run()
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return ToolRun(status: process.terminationStatus, output: String(decoding: data, as: UTF8.self))
        }
    }
}

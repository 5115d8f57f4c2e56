import Foundation
import NIOConcurrencyHelpers

/// A test script (Tests/Scripts) as a child process that reports in JSON lines on stdout: the test reads
/// them while it runs, keeps stderr for its diagnostics, and sends commands on stdin until it closes it.
final class ScriptProcess: @unchecked Sendable {
    let process = Process()
    private let input = Pipe()
    private let stdout = NIOLockedValueBox("")
    private let stderr = NIOLockedValueBox("")
    /// Set when stdout reached end of file: every line the script printed is in `output`.
    private let stdoutEnded = NIOLockedValueBox(false)

    init(executable: String, arguments: [String]) throws {
        self.process.executableURL = URL(fileURLWithPath: executable)
        self.process.arguments = arguments
        self.process.standardInput = self.input
        self.process.standardOutput = Self.collect(into: self.stdout, ended: self.stdoutEnded)
        self.process.standardError = Self.collect(into: self.stderr, ended: nil)
        try self.process.run()
    }

    private static func collect(into box: NIOLockedValueBox<String>, ended: NIOLockedValueBox<Bool>?) -> Pipe {
        let pipe = Pipe()
        pipe.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            guard !data.isEmpty else {
                handle.readabilityHandler = nil
                ended?.withLockedValue { $0 = true }
                return
            }
            box.withLockedValue { $0 += String(decoding: data, as: UTF8.self) }
        }
        return pipe
    }

    deinit {
        if self.process.isRunning { kill(self.process.processIdentifier, SIGKILL) }
    }

    var isRunning: Bool { self.process.isRunning }

    /// Everything on stdout so far.
    var output: String { self.stdout.withLockedValue { $0 } }

    /// The script's stderr.
    var log: String { self.stderr.withLockedValue { $0 } }

    /// The complete JSON object lines on stdout so far (a line still being written is left out).
    var jsonLines: [Substring] {
        self.output.split(separator: "\n", omittingEmptySubsequences: true).filter {
            $0.hasPrefix("{") && $0.hasSuffix("}")
        }
    }

    /// The last JSON line that `matches`, decoded.
    func last<Line: Decodable>(_ type: Line.Type, where matches: (Substring) -> Bool = { _ in true }) -> Line? {
        guard let line = self.jsonLines.last(where: matches) else { return nil }
        return try? JSONDecoder().decode(Line.self, from: Data(line.utf8))
    }

    /// Polls `line()` until it satisfies `condition`; returns that value, or nil after `seconds` or once the
    /// script exited.
    func waitFor<Line>(seconds: Double, _ line: () -> Line?, _ condition: (Line) -> Bool) async -> Line? {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while ContinuousClock.now < deadline && self.process.isRunning {
            if let value = line(), condition(value) { return value }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return line().flatMap { condition($0) ? $0 : nil }
    }

    /// Writes one line to the script's stdin.
    func send(_ line: String) {
        try? self.input.fileHandleForWriting.write(contentsOf: Data((line + "\n").utf8))
    }

    /// Ends the script's stdin.
    func closeInput() {
        try? self.input.fileHandleForWriting.close()
    }

    /// Waits for the exit (killing the script after `seconds`), then for the rest of its stdout.
    @discardableResult
    func waitForExit(seconds: Double) async -> Int32 {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while self.process.isRunning && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
        if self.process.isRunning { kill(self.process.processIdentifier, SIGKILL) }
        self.process.waitUntilExit()
        let drained = ContinuousClock.now + .seconds(2)
        while !self.stdoutEnded.withLockedValue({ $0 }) && ContinuousClock.now < drained {
            try? await Task.sleep(for: .milliseconds(10))
        }
        return self.process.terminationStatus
    }
}

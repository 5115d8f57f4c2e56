import Logging
import NIOConcurrencyHelpers

/// Every line an in-process daemon logs, kept in memory, so a test can check what reached the log —
/// and that a secret never did.
final class LogCapture: Sendable {
    private let captured = NIOLockedValueBox<[String]>([])

    var lines: [String] { self.captured.withLockedValue { $0 } }

    /// A logger at `level` whose lines (message and metadata, as a log handler would print them) land here.
    func logger(level: Logger.Level = .debug) -> Logger {
        var logger = Logger(label: "captured") { _ in Handler(capture: self) }
        logger.logLevel = level
        return logger
    }

    fileprivate func append(_ line: String) {
        self.captured.withLockedValue { $0.append(line) }
    }

    private struct Handler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { self.metadata[key] }
            set { self.metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let all = self.metadata.merging(event.metadata ?? [:]) { $1 }
            let fields = all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            self.capture.append("\(event.level) \(fields) \(event.message)")
        }
    }
}

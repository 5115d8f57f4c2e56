import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Log lines for a stderr that systemd connected to journald (see `JournalStream`). journald reads a
/// leading `<N>` as the line's syslog priority, so `journalctl -p warning` filters by level, and it
/// stamps every line itself, so no timestamp is written. Otherwise the layout is the one
/// `StreamLogHandler` writes to a terminal, so the same greps work in both places:
///
///     <6>info kafka-chat-producer: address=[IPv4]0.0.0.0/0.0.0.0:8000 [Gateway] listening
public struct JournaldLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String
    private let output: @Sendable (String) -> Void

    /// - Parameter output: receives each finished entry (one or more `\n`-terminated lines); stderr by
    ///   default, replaceable so tests can read the lines.
    public init(
        label: String,
        metadataProvider: Logger.MetadataProvider? = LoggingSystem.metadataProvider,
        output: @escaping @Sendable (String) -> Void = JournaldLogHandler.writeToStandardError
    ) {
        self.label = label
        self.metadataProvider = metadataProvider
        self.output = output
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { self.metadata[key] }
        set { self.metadata[key] = newValue }
    }

    /// The syslog priority journald files a level under. swift-log has no `alert`/`emerg`; trace and
    /// debug share `debug`.
    public static func priority(of level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: return 7
        case .info: return 6
        case .notice: return 5
        case .warning: return 4
        case .error: return 3
        case .critical: return 2
        }
    }

    public func log(event: LogEvent) {
        var merged = self.metadata
        if let provided = self.metadataProvider?.get() { merged.merge(provided) { $1 } }
        if let explicit = event.metadata { merged.merge(explicit) { $1 } }
        if let error = event.error { merged["error"] = "\(error)" }
        let rendered =
            merged.isEmpty
            ? "" : " " + merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        let text =
            "\(event.level)\(self.label.isEmpty ? "" : " ")\(self.label):\(rendered) [\(event.source)] \(event.message)"
        // journald makes one entry per line: every line of a multi-line message keeps the priority.
        let prefix = "<\(Self.priority(of: event.level))>"
        var entry = ""
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            entry += prefix
            entry += line
            entry += "\n"
        }
        self.output(entry)
    }

    /// Serializes writers, so that entries from different threads never interleave inside a line.
    private static let writeLock = Mutex(())

    /// Writes `entry` to file descriptor 2 with `write(2)`, retrying short writes and EINTR.
    public static let writeToStandardError: @Sendable (String) -> Void = { entry in
        var entry = entry
        entry.withUTF8 { bytes in
            guard let start = bytes.baseAddress else { return }
            writeLock.withLock { _ in
                var next = start
                var remaining = bytes.count
                while remaining > 0 {
                    let written = write(2, next, remaining)
                    if written < 0 {
                        if errno == EINTR { continue }
                        return
                    }
                    next += written
                    remaining -= written
                }
            }
        }
    }
}

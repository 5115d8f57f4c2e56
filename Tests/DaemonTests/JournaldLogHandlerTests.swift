import Daemon
import Foundation
import Logging
import NIOConcurrencyHelpers
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The journald line format: what `journalctl -p` filters on must be right for every level.
@Suite("journald log lines")
struct JournaldLogHandlerTests {
    /// A logger whose handler hands its entries to `entries` instead of stderr.
    private static func logger(
        _ entries: NIOLockedValueBox<[String]>,
        metadata: Logger.Metadata = [:],
        provider: Logger.MetadataProvider? = nil
    ) -> Logger {
        Logger(label: "kcp") { label in
            var handler = JournaldLogHandler(label: label, metadataProvider: provider) { entry in
                entries.withLockedValue { $0.append(entry) }
            }
            handler.logLevel = .trace
            handler.metadata = metadata
            return handler
        }
    }

    @Test(
        "each level carries its syslog priority",
        arguments: [
            (Logger.Level.trace, 7), (.debug, 7), (.info, 6), (.notice, 5), (.warning, 4), (.error, 3), (.critical, 2),
        ]
    )
    func priority(level: Logger.Level, priority: Int) {
        let entries = NIOLockedValueBox<[String]>([])
        Self.logger(entries).log(level: level, "hello")
        #expect(entries.withLockedValue { $0 } == ["<\(priority)>\(level) kcp: [DaemonTests] hello\n"])
        #expect(JournaldLogHandler.priority(of: level) == priority)
    }

    @Test("no timestamp: journald stamps each line itself")
    func noTimestamp() throws {
        let entries = NIOLockedValueBox<[String]>([])
        Self.logger(entries).info("ready")
        let entry = try #require(entries.withLockedValue { $0.first })
        #expect(entry.hasPrefix("<6>info kcp:"))
        #expect(entry.firstMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d/) == nil, "\(entry)")
    }

    @Test("metadata is key=value, sorted; the call's wins over the provider's, which wins over the handler's")
    func metadata() {
        let entries = NIOLockedValueBox<[String]>([])
        let provider = Logger.MetadataProvider { ["b": "provider", "c": "provider"] }
        let logger = Self.logger(
            entries,
            metadata: ["a": "handler", "b": "handler", "z": "handler"],
            provider: provider
        )
        logger.warning("slow", metadata: ["c": "call", "address": "127.0.0.1:8000"])
        #expect(
            entries.withLockedValue { $0 } == [
                "<4>warning kcp: a=handler address=127.0.0.1:8000 b=provider c=call z=handler [DaemonTests] slow\n"
            ]
        )
    }

    @Test("every line of a multi-line message keeps the priority")
    func multiLine() {
        let entries = NIOLockedValueBox<[String]>([])
        Self.logger(entries).error("first\nsecond")
        #expect(entries.withLockedValue { $0 } == ["<3>error kcp: [DaemonTests] first\n<3>second\n"])
    }

    @Test("the level still filters (LOG_LEVEL, log.level)")
    func levelFilters() {
        let entries = NIOLockedValueBox<[String]>([])
        var logger = Self.logger(entries)
        logger.logLevel = .warning
        logger.info("dropped")
        logger.error("kept")
        #expect(entries.withLockedValue { $0 } == ["<3>error kcp: [DaemonTests] kept\n"])
    }

    @Test("JOURNAL_STREAM counts only when it names the descriptor's own device and inode")
    func journalStream() throws {
        let path = NSTemporaryDirectory() + "kcp-journal-\(UUID().uuidString.prefix(8))"
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        try #require(fd >= 0)
        defer {
            close(fd)
            unlink(path)
        }
        var status = stat()
        try #require(fstat(fd, &status) == 0)
        let device = UInt64(status.st_dev)
        let inode = UInt64(status.st_ino)
        #expect(JournalStream.isConnected(fileDescriptor: fd, environment: ["JOURNAL_STREAM": "\(device):\(inode)"]))
        #expect(
            !JournalStream.isConnected(fileDescriptor: fd, environment: ["JOURNAL_STREAM": "\(device):\(inode + 1)"])
        )
        #expect(
            !JournalStream.isConnected(fileDescriptor: fd, environment: ["JOURNAL_STREAM": "\(device + 1):\(inode)"])
        )
        #expect(!JournalStream.isConnected(fileDescriptor: fd, environment: [:]))
        for garbage in ["", "\(device)", "\(device):", ":\(inode)", "x:y", "\(device):\(inode):0"] {
            #expect(
                !JournalStream.isConnected(fileDescriptor: fd, environment: ["JOURNAL_STREAM": garbage]),
                "\(garbage)"
            )
        }
        #expect(!JournalStream.isConnected(fileDescriptor: -1, environment: ["JOURNAL_STREAM": "\(device):\(inode)"]))
    }
}

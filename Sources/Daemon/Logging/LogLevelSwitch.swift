import Logging
import Synchronization

/// The log level every logger of the daemon reads, so a reload's `log.level` reaches the loggers already
/// copied into services and connections (a `Logger` is a value: setting the level on one copy changes
/// only that copy).
public final class LogLevelSwitch: Sendable {
    private let current: Atomic<UInt8>

    public init(_ level: Logger.Level) {
        self.current = Atomic(Self.code(level))
    }

    public var level: Logger.Level {
        get { Self.levels[Int(self.current.load(ordering: .relaxed))] }
        set { self.current.store(Self.code(newValue), ordering: .relaxed) }
    }

    private static let levels = Logger.Level.allCases

    private static func code(_ level: Logger.Level) -> UInt8 {
        UInt8(Self.levels.firstIndex(of: level) ?? 0)
    }
}

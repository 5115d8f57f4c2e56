import Logging

/// A log handler whose level comes from a shared `LogLevelSwitch` (`log.level`, changed by a reload) unless
/// code set one on its own logger; everything else is the wrapped handler's.
public struct SwitchedLevelLogHandler<Wrapped: LogHandler>: LogHandler {
    private var wrapped: Wrapped
    private let levelSwitch: LogLevelSwitch
    /// A level set on this logger (`logger.logLevel = …`) wins over the switch.
    private var ownLevel: Logger.Level?

    public init(_ wrapped: Wrapped, levelSwitch: LogLevelSwitch) {
        self.wrapped = wrapped
        self.levelSwitch = levelSwitch
    }

    public var logLevel: Logger.Level {
        get { self.ownLevel ?? self.levelSwitch.level }
        set { self.ownLevel = newValue }
    }

    public var metadata: Logger.Metadata {
        get { self.wrapped.metadata }
        set { self.wrapped.metadata = newValue }
    }

    public var metadataProvider: Logger.MetadataProvider? {
        get { self.wrapped.metadataProvider }
        set { self.wrapped.metadataProvider = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { self.wrapped[metadataKey: key] }
        set { self.wrapped[metadataKey: key] = newValue }
    }

    public func log(event: LogEvent) {
        self.wrapped.log(event: event)
    }
}

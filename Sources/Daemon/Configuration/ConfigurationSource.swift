/// Where the configuration came from — the file, the environment and the command-line settings — so a
/// reload can load it again with the same layering (only the file can have changed: a process's
/// environment and arguments are fixed).
public struct ConfigurationSource: Sendable {
    public var file: String?
    public var environment: [String: String]
    public var overrides: [(key: String, value: String)]

    public init(file: String?, environment: [String: String], overrides: [(key: String, value: String)]) {
        self.file = file
        self.environment = environment
        self.overrides = overrides
    }

    /// Loads and validates it (token and key files included), as at start-up.
    public func load() throws(ConfigurationError) -> DaemonConfiguration {
        try ConfigurationLoader.load(file: self.file, environment: self.environment, overrides: self.overrides)
    }
}

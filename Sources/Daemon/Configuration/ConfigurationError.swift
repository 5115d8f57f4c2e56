/// A configuration problem, always naming the key (and where it came from) so the operator can fix it.
public struct ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    public let key: String
    public let message: String
    /// "config file /etc/…:12", "environment KCP_LISTEN_PORT", "--set", …
    public var source: String?

    public init(key: String, message: String, source: String? = nil) {
        self.key = key
        self.message = message
        self.source = source
    }

    public var description: String {
        if let source { return "\(self.key) (\(source)): \(self.message)" }
        return "\(self.key): \(self.message)"
    }
}

/// A setting or file the access checks cannot use; the daemon reports it under the key that named it.
public struct AccessSetupError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { self.message }
}

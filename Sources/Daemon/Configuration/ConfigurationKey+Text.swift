import Access
import Foundation

extension ConfigurationKey {
    /// A text key that may be empty (empty switches its feature off), checked when it is set so that a
    /// bad origin or CIDR block is reported with the key and where it came from.
    static func text(
        _ name: String,
        _ keyPath: WritableKeyPath<DaemonConfiguration, String>,
        check: @escaping (String) throws(AccessSetupError) -> Void = { _ throws(AccessSetupError) in },
        _ summary: String
    ) -> ConfigurationKey {
        ConfigurationKey(name: name, summary: summary, render: { $0[keyPath: keyPath] }) {
            configuration,
            text throws(ConfigurationError) in
            let value = text.trimmingCharacters(in: .whitespaces)
            do throws(AccessSetupError) {
                try check(value)
            } catch {
                throw ConfigurationError(key: name, message: error.message)
            }
            configuration[keyPath: keyPath] = value
        }
    }
}

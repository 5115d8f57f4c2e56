import Foundation
import Ingest
import Logging

/// One configuration key: its name, its documentation, how to show its value and how to set it from text.
public struct ConfigurationKey {
    public let name: String
    public let summary: String
    let render: (DaemonConfiguration) -> String
    let apply: (inout DaemonConfiguration, String) throws(ConfigurationError) -> Void

    /// The environment variable that sets this key: `KCP_` and the name in capitals, `.` as `_`.
    public var environmentName: String {
        "KCP_" + self.name.uppercased().replacingOccurrences(of: ".", with: "_")
    }

    public func value(in configuration: DaemonConfiguration) -> String { self.render(configuration) }

    static func integer(
        _ name: String,
        _ keyPath: WritableKeyPath<DaemonConfiguration, Int>,
        _ range: ClosedRange<Int>,
        _ summary: String
    ) -> ConfigurationKey {
        ConfigurationKey(name: name, summary: summary, render: { String($0[keyPath: keyPath]) }) {
            configuration,
            text throws(ConfigurationError) in
            guard let value = Self.parseInteger(text) else {
                throw ConfigurationError(key: name, message: "\"\(text)\" is not a whole number")
            }
            guard range.contains(value) else {
                throw ConfigurationError(
                    key: name,
                    message: "\(value) is outside \(range.lowerBound)…\(range.upperBound)"
                )
            }
            configuration[keyPath: keyPath] = value
        }
    }

    static func seconds(
        _ name: String,
        _ keyPath: WritableKeyPath<DaemonConfiguration, Double>,
        _ range: ClosedRange<Double>,
        _ summary: String
    ) -> ConfigurationKey {
        ConfigurationKey(name: name, summary: summary, render: { Self.formatSeconds($0[keyPath: keyPath]) }) {
            configuration,
            text throws(ConfigurationError) in
            guard let value = Double(text.trimmingCharacters(in: .whitespaces)), value.isFinite else {
                throw ConfigurationError(key: name, message: "\"\(text)\" is not a number of seconds")
            }
            guard range.contains(value) else {
                throw ConfigurationError(
                    key: name,
                    message:
                        "\(text) is outside \(Self.formatSeconds(range.lowerBound))…\(Self.formatSeconds(range.upperBound)) seconds"
                )
            }
            configuration[keyPath: keyPath] = value
        }
    }

    static func boolean(
        _ name: String,
        _ keyPath: WritableKeyPath<DaemonConfiguration, Bool>,
        _ summary: String
    ) -> ConfigurationKey {
        ConfigurationKey(name: name, summary: summary, render: { $0[keyPath: keyPath] ? "true" : "false" }) {
            configuration,
            text throws(ConfigurationError) in
            switch text.lowercased() {
            case "true", "yes", "on", "1": configuration[keyPath: keyPath] = true
            case "false", "no", "off", "0": configuration[keyPath: keyPath] = false
            default: throw ConfigurationError(key: name, message: "\"\(text)\" is not true or false")
            }
        }
    }

    static func string(
        _ name: String,
        _ keyPath: WritableKeyPath<DaemonConfiguration, String>,
        allowed: [String]? = nil,
        _ summary: String
    ) -> ConfigurationKey {
        ConfigurationKey(name: name, summary: summary, render: { $0[keyPath: keyPath] }) {
            configuration,
            text throws(ConfigurationError) in
            if let allowed, !allowed.contains(text) {
                throw ConfigurationError(
                    key: name,
                    message: "\"\(text)\" is not one of \(allowed.joined(separator: ", "))"
                )
            }
            guard !text.isEmpty else { throw ConfigurationError(key: name, message: "must not be empty") }
            configuration[keyPath: keyPath] = text
        }
    }

    /// Accepts `1048576`, `1_048_576`, `64k`, `1m`, `256MiB`: sizes are easier to read with a unit.
    static func parseInteger(_ text: String) -> Int? {
        var digits = text.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "_", with: "").lowercased()
        var multiplier = 1
        for (suffix, factor) in [
            ("kib", 1 << 10), ("mib", 1 << 20), ("gib", 1 << 30), ("k", 1 << 10), ("m", 1 << 20), ("g", 1 << 30),
        ] {
            if digits.hasSuffix(suffix) {
                digits.removeLast(suffix.count)
                multiplier = factor
                break
            }
        }
        guard let value = Int(digits) else { return nil }
        let (product, overflow) = value.multipliedReportingOverflow(by: multiplier)
        return overflow ? nil : product
    }

    static func formatSeconds(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }
}

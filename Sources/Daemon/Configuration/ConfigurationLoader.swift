import Foundation
import Ingest
import Kafka

/// Builds the configuration from, in rising precedence: defaults, a config file, `KCP_…` environment
/// variables, then command-line settings. Every problem names the key and where the value came from.
public enum ConfigurationLoader {
    public static func load(
        file: String?,
        environment: [String: String],
        overrides: [(key: String, value: String)]
    ) throws(ConfigurationError) -> DaemonConfiguration {
        var configuration = DaemonConfiguration()
        if let file {
            let contents: String
            do {
                contents = try String(contentsOfFile: file, encoding: .utf8)
            } catch {
                throw ConfigurationError(key: "--config", message: "cannot read \(file): \(error.localizedDescription)")
            }
            for entry in try self.parse(contents, path: file) {
                try self.apply(entry.key, entry.value, source: "\(file):\(entry.line)", to: &configuration)
            }
        }
        for key in ConfigurationKeys.all {
            if let value = environment[key.environmentName] {
                try self.apply(key.name, value, source: "environment \(key.environmentName)", to: &configuration)
            }
        }
        if configuration.logLevel == DaemonConfiguration().logLevel, let level = environment["LOG_LEVEL"] {
            try self.apply("log.level", level, source: "environment LOG_LEVEL", to: &configuration)
        }
        for (name, value) in environment.sorted(by: { $0.key < $1.key }) where name.hasPrefix("KCP_LIBRDKAFKA_") {
            let property = self.librdkafkaProperty(fromEnvironmentName: name)
            try self.apply(
                ConfigurationKeys.librdkafkaPrefix + property,
                value,
                source: "environment \(name)",
                to: &configuration
            )
        }
        for (key, value) in overrides {
            try self.apply(key, value, source: "command line", to: &configuration)
        }
        try self.validate(configuration)
        return configuration
    }

    /// `KCP_LIBRDKAFKA_SSL_CA_LOCATION` → `ssl.ca.location`; a doubled `__` stands for `_` (`LOG__LEVEL` → `log_level`).
    static func librdkafkaProperty(fromEnvironmentName name: String) -> String {
        let rest = name.dropFirst("KCP_LIBRDKAFKA_".count).lowercased()
        return rest.replacingOccurrences(of: "__", with: "\u{0}")
            .replacingOccurrences(of: "_", with: ".")
            .replacingOccurrences(of: "\u{0}", with: "_")
    }

    public static func apply(
        _ name: String,
        _ value: String,
        source: String,
        to configuration: inout DaemonConfiguration
    ) throws(ConfigurationError) {
        if name.hasPrefix(ConfigurationKeys.librdkafkaPrefix) {
            let property = String(name.dropFirst(ConfigurationKeys.librdkafkaPrefix.count))
            guard !property.isEmpty else {
                throw ConfigurationError(key: name, message: "names no librdkafka property", source: source)
            }
            configuration.librdkafka.removeAll { $0.0 == property }
            configuration.librdkafka.append((property, value))
            return
        }
        guard let key = ConfigurationKeys.key(named: name) else {
            throw ConfigurationError(
                key: name,
                message: "unknown key (see `kafka-chat-producer --list-keys`)",
                source: source
            )
        }
        do {
            try key.apply(&configuration, value)
        } catch {
            throw ConfigurationError(key: error.key, message: error.message, source: source)
        }
    }

    /// `key = value` lines; `#` starts a comment; values may be double-quoted.
    static func parse(
        _ contents: String,
        path: String
    ) throws(ConfigurationError) -> [(key: String, value: String, line: Int)] {
        var entries: [(key: String, value: String, line: Int)] = []
        for (index, rawLine) in contents.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let equals = line.firstIndex(of: "=") else {
                throw ConfigurationError(key: line, message: "expected `key = value`", source: "\(path):\(index + 1)")
            }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces)
            var value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") {
                value = String(value.dropFirst().dropLast())
            }
            entries.append((key, value, index + 1))
        }
        return entries
    }

    /// Checks that involve more than one key, and asks librdkafka about its own properties.
    public static func validate(_ configuration: DaemonConfiguration) throws(ConfigurationError) {
        let ring = configuration.ringBytes
        guard ring & (ring - 1) == 0 else {
            throw ConfigurationError(key: "buffer.ring_bytes", message: "\(ring) is not a power of two")
        }
        guard configuration.budgetBytes >= ring else {
            throw ConfigurationError(
                key: "buffer.budget_bytes",
                message: "must hold at least one ring (buffer.ring_bytes = \(ring))"
            )
        }
        let largestRecord = TopicRing.maxPayloadBytes(forCapacity: ring)
        guard configuration.maxMessageBytes <= largestRecord else {
            throw ConfigurationError(
                key: "websocket.max_message_bytes",
                message:
                    "\(configuration.maxMessageBytes) does not fit a ring of \(ring) bytes (at most \(largestRecord)); raise buffer.ring_bytes"
            )
        }
        try ConfigurationKeys.validateLimits(configuration)
        // The embedded cluster's address is known only once it runs; any address validates the rest.
        let bootstrapServers: String
        switch try configuration.kafkaTarget() {
        case .bootstrapServers(let servers): bootstrapServers = servers
        case .embeddedCluster: bootstrapServers = "127.0.0.1:9092"
        }
        do {
            try configuration.kafkaConfiguration(bootstrapServers: bootstrapServers).validate()
        } catch {
            let overridden = configuration.librdkafka.contains { $0.0 == error.property }
            let typedKey = configuration.typedKafkaProperties(bootstrapServers: bootstrapServers)
                .first { $0.property == error.property }?.key
            let key =
                overridden
                ? ConfigurationKeys.librdkafkaPrefix + error.property
                : typedKey ?? ConfigurationKeys.librdkafkaPrefix + error.property
            throw ConfigurationError(key: key, message: error.message)
        }
        // Reads the token and key files, so a missing or bad one stops the daemon with exit code 78.
        _ = try AccessSettingsLoader.load(configuration)
    }

    /// The configuration as a documented file: every key, its summary and its value.
    public static func render(_ configuration: DaemonConfiguration) -> String {
        var text = ""
        for key in ConfigurationKeys.all {
            text += "# \(key.summary)\n"
            text += "\(key.name) = \(key.value(in: configuration))\n\n"
        }
        for (name, value) in configuration.librdkafka {
            let shown = Self.isSecret(name) ? "(hidden: \(value.utf8.count) characters)" : value
            text += "\(ConfigurationKeys.librdkafkaPrefix)\(name) = \(shown)\n"
        }
        return text
    }

    /// librdkafka properties that hold credentials (`sasl.password`, `ssl.key.password`,
    /// `sasl.oauthbearer.client.secret`, `ssl.key.pem`…): `--print-config` must not put them in a
    /// terminal or a support ticket.
    static func isSecret(_ property: String) -> Bool {
        let name = property.lowercased()
        return name.contains("password") || name.contains("secret") || name.hasSuffix(".pem")
            || name == "sasl.oauthbearer.config"
    }
}

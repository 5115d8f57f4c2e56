import CRdKafka

/// librdkafka properties in the order they are applied: typed defaults first, then operator passthrough.
///
/// Keeping the configuration as plain `name=value` pairs means any librdkafka property (TLS, SASL, …)
/// can be passed through without this module having to know it; librdkafka itself validates each one.
public struct KafkaConfiguration: Sendable, Equatable {
    public private(set) var properties: [(name: String, value: String)] = []

    public init() {}

    public init(_ properties: [(String, String)]) {
        for (name, value) in properties { self.set(name, value) }
    }

    /// Sets a property, replacing an earlier value of the same name.
    public mutating func set(_ name: String, _ value: String) {
        if let index = self.properties.firstIndex(where: { $0.name == name }) {
            self.properties[index].value = value
        } else {
            self.properties.append((name, value))
        }
    }

    public subscript(name: String) -> String? {
        self.properties.first(where: { $0.name == name })?.value
    }

    public static func == (lhs: KafkaConfiguration, rhs: KafkaConfiguration) -> Bool {
        lhs.properties.elementsEqual(rhs.properties) { $0.name == $1.name && $0.value == $1.value }
    }

    /// Builds an `rd_kafka_conf_t`; the caller owns it (it is consumed by `rd_kafka_new`).
    func makeConf() throws(KafkaConfigurationError) -> OpaquePointer {
        let conf = rd_kafka_conf_new()!
        for (name, value) in self.properties {
            var errstr = [CChar](repeating: 0, count: 512)
            let result = rd_kafka_conf_set(conf, name, value, &errstr, errstr.count)
            guard result == RD_KAFKA_CONF_OK else {
                rd_kafka_conf_destroy(conf)
                let message = String(errorBuffer: errstr)
                throw KafkaConfigurationError(property: name, message: message)
            }
        }
        return conf
    }

    /// Asks librdkafka whether every property is known and valid, without creating a client.
    public func validate() throws(KafkaConfigurationError) {
        let conf = try self.makeConf()
        rd_kafka_conf_destroy(conf)
    }
}

/// A property librdkafka refused, with its own explanation.
public struct KafkaConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    public let property: String
    public let message: String
    public var description: String { "librdkafka property \"\(self.property)\": \(self.message)" }
}

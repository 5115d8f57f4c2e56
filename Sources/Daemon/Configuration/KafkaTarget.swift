/// Where the daemon publishes: a real cluster, or librdkafka's in-process mock cluster for a trial run.
/// Read from `kafka.bootstrap_servers` and `embedded_broker`, of which exactly one must be set.
public enum KafkaTarget: Sendable, Equatable {
    /// `host:port[,host:port…]` of a real cluster.
    case bootstrapServers(String)
    /// An in-memory mock cluster started inside the daemon (messages are lost when it stops).
    case embeddedCluster(brokers: Int)
}

extension DaemonConfiguration {
    /// The target the keys name, or the error that says why they name none or two.
    public func kafkaTarget() throws(ConfigurationError) -> KafkaTarget {
        switch (self.bootstrapServers, self.embeddedBroker) {
        case (let servers?, false):
            return .bootstrapServers(servers)
        case (nil, true):
            return .embeddedCluster(brokers: self.embeddedBrokerCount)
        case (nil, false):
            throw ConfigurationError(
                key: "kafka.bootstrap_servers",
                message:
                    "not set; give the brokers (--bootstrap-servers HOST:PORT) or, for a local trial only, --embedded-broker"
            )
        case (.some, true):
            throw ConfigurationError(key: "embedded_broker", message: "cannot be combined with kafka.bootstrap_servers")
        }
    }
}

import CRdKafka

/// librdkafka's in-process mock Kafka cluster: the real protocol on loopback ports, with fault injection.
///
/// Used by `--embedded-broker` for a first run, and by the tests and benchmarks. Messages live in memory only.
public final class MockCluster: @unchecked Sendable {
    // @unchecked Sendable: every stored property is a `let`; librdkafka's mock cluster API serialises its
    // calls on the cluster's own thread, so the handles may be used from any thread.
    /// A client handle the mock cluster needs for its own thread and logging.
    private let owner: OpaquePointer
    private let cluster: OpaquePointer
    public let brokerCount: Int

    public init(brokers: Int = 1) throws {
        let conf = rd_kafka_conf_new()!
        var errstr = [CChar](repeating: 0, count: 512)
        // Keep the owning handle quiet and off any real network.
        _ = rd_kafka_conf_set(conf, "log_level", "3", &errstr, errstr.count)
        guard let owner = rd_kafka_new(RD_KAFKA_PRODUCER, conf, &errstr, errstr.count) else {
            rd_kafka_conf_destroy(conf)
            throw KafkaClientError(message: String(errorBuffer: errstr))
        }
        guard let cluster = rd_kafka_mock_cluster_new(owner, Int32(brokers)) else {
            rd_kafka_destroy(owner)
            throw KafkaClientError(message: "could not start the mock cluster")
        }
        self.owner = owner
        self.cluster = cluster
        self.brokerCount = brokers
    }

    deinit {
        rd_kafka_mock_cluster_destroy(self.cluster)
        rd_kafka_destroy(self.owner)
    }

    /// `host:port,…` for `bootstrap.servers`.
    public var bootstrapServers: String { String(cString: rd_kafka_mock_cluster_bootstraps(self.cluster)) }

    /// Creates a topic up front (otherwise the mock creates it on first use with its default partition count).
    public func createTopic(_ name: String, partitions: Int, replicationFactor: Int = 1) throws {
        let err = rd_kafka_mock_topic_create(self.cluster, name, Int32(partitions), Int32(replicationFactor))
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err) }
    }

    /// Takes a broker (1-based id) off the network: connections drop and requests fail until `setBrokerUp`.
    public func setBrokerDown(_ id: Int32) {
        _ = rd_kafka_mock_broker_set_down(self.cluster, id)
    }

    public func setBrokerUp(_ id: Int32) {
        _ = rd_kafka_mock_broker_set_up(self.cluster, id)
    }

    /// Delays every response of a broker (1-based id) by `milliseconds`: a broker that hangs while its
    /// connections stay open. 0 answers at once again (responses already delayed stay delayed).
    public func setRoundTripTime(_ id: Int32, milliseconds: Int) {
        _ = rd_kafka_mock_broker_set_rtt(self.cluster, id, Int32(milliseconds))
    }

    /// Every broker down (or up) at once.
    public func setAllBrokers(up: Bool) {
        for id in 1...Int32(self.brokerCount) {
            if up { self.setBrokerUp(id) } else { self.setBrokerDown(id) }
        }
    }
}

import Monitoring
import Testing

@Suite struct KafkaStatisticsTests {
    /// Shaped like librdkafka 2.0.2's statistics (trimmed: the fields we read and some we do not).
    static let document = """
        {"name":"kafka-chat-producer#producer-1","type":"producer","ts":1234,"time":1700000000,
         "msg_cnt":12,"msg_size":3400,"msg_max":100000,"msg_size_max":67108864,"txmsgs":99,
         "brokers":{
           "127.0.0.1:9092/bootstrap":{"name":"127.0.0.1:9092/bootstrap","nodeid":-1,"state":"UP","txerrs":1,"txretries":0,
             "rtt":{"min":0,"max":0,"avg":0,"p99":0,"cnt":0},"int_latency":{"avg":0,"p99":0,"cnt":0}},
           "127.0.0.1:9092/1":{"name":"127.0.0.1:9092/1","nodeid":1,"state":"UP","txerrs":2,"txretries":5,
             "rtt":{"min":100,"max":900,"avg":250,"p99":800,"cnt":40},"int_latency":{"avg":1500,"p99":4000,"cnt":40}},
           "127.0.0.1:9093/2":{"name":"127.0.0.1:9093/2","nodeid":2,"state":"CONNECT","txerrs":0,"txretries":1,
             "rtt":{"avg":0,"p99":0,"cnt":0},"int_latency":{"avg":0,"p99":0,"cnt":0}}
         },
         "topics":{
           "kafka.chat.global":{"topic":"kafka.chat.global","batchsize":{"avg":1000,"cnt":3},"batchcnt":{"avg":10,"cnt":3},
             "partitions":{"0":{"partition":0,"msgq_cnt":0}}},
           "kafka.chat.quiet":{"topic":"kafka.chat.quiet","batchsize":{"avg":0,"cnt":0},"batchcnt":{"avg":0,"cnt":0}},
           "kafka.chat.other":{"topic":"kafka.chat.other","batchsize":{"avg":2000,"cnt":1},"batchcnt":{"avg":30,"cnt":1}}
         }}
        """

    @Test func readsQueueBrokersAndBatches() throws {
        let statistics = try #require(KafkaStatistics(json: Self.document))
        #expect(statistics.queueMessages == 12)
        #expect(statistics.queueBytes == 3400)
        #expect(statistics.queueMaxMessages == 100_000)
        #expect(statistics.queueMaxBytes == 67_108_864)
        #expect(statistics.brokers.map(\.nodeID) == [1, 2], "the bootstrap placeholder is not a broker")
        #expect(statistics.brokersUp == 1)
        #expect(statistics.brokers[0].rttAverageSeconds == 0.00025)
        #expect(statistics.brokers[0].rttP99Seconds == 0.0008)
        #expect(statistics.brokers[0].internalLatencyP99Seconds == 0.004)
        #expect(statistics.transmitErrors == 3)
        #expect(statistics.transmitRetries == 6)
        // Weighted by batches: (1000×3 + 2000×1) / 4; the quiet topic has no batches and does not count.
        #expect(statistics.batchSizeAverageBytes == 1250)
        #expect(statistics.batchMessagesAverage == 15)
    }

    @Test func somethingElseIsNotStatistics() {
        #expect(KafkaStatistics(json: "not json") == nil)
        #expect(KafkaStatistics(json: "[1,2]") == nil)
    }
}

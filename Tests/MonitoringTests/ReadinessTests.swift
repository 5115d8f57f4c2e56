import Monitoring
import Testing

@Suite struct ReadinessTests {
    private func evaluate(
        draining: Bool = false,
        reachable: Bool = true,
        used: Int = 0,
        reserved: Int = 1 << 20,
        kafka: KafkaStatistics? = nil
    ) -> Readiness {
        Readiness.evaluate(
            draining: draining,
            brokerReachable: reachable,
            ringUsedBytes: used,
            ringReservedBytes: reserved,
            kafka: kafka,
            highWater: 0.8
        )
    }

    @Test func readyWhenNothingIsWrong() {
        let readiness = self.evaluate(used: 1000)
        #expect(readiness.isReady)
        #expect(readiness.json.hasPrefix("{\"ready\":true,\"reasons\":[]"))
    }

    @Test func eachConditionGivesItsOwnReason() {
        #expect(self.evaluate(draining: true).reasons.map(\.code) == ["draining"])
        #expect(self.evaluate(reachable: false).reasons.map(\.code) == ["broker_unreachable"])
        #expect(self.evaluate(used: 900_000).reasons.map(\.code) == ["buffers_full"])
        let queue = KafkaStatistics(queueBytes: 90, queueMaxBytes: 100)
        #expect(self.evaluate(kafka: queue).reasons.map(\.code) == ["kafka_queue_full"])
        let all = self.evaluate(draining: true, reachable: false, used: 1 << 20, kafka: queue)
        #expect(all.reasons.map(\.code) == ["draining", "broker_unreachable", "buffers_full", "kafka_queue_full"])
        #expect(!all.isReady)
    }

    @Test func justBelowTheHighWaterMarkIsStillReady() {
        #expect(self.evaluate(used: 838_000).isReady)  // 79.9 % of 1 MiB
        #expect(!self.evaluate(used: 838_861).isReady)  // 80 %
    }

    @Test func theReplyIsJSONWithCodesAndMessages() {
        let json = self.evaluate(reachable: false, kafka: KafkaStatistics(brokers: [])).json
        #expect(json.contains("\"ready\":false"))
        #expect(
            json.contains("{\"code\":\"broker_unreachable\",\"message\":\"no Kafka broker answered the last check\"}")
        )
        #expect(json.contains("\"brokersUp\":0"))
    }
}

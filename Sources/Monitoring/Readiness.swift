/// The answer of `GET /ready`: ready only while a broker is reachable, buffers are below their
/// high-water mark and the daemon is not draining. `/health` (liveness) does not look at any of this:
/// a load balancer should stop sending new clients here, but systemd should not restart us.
public struct Readiness: Sendable, Equatable {
    public struct Reason: Sendable, Equatable {
        /// Stable, for machines: `draining`, `broker_unreachable`, `buffers_full`, `kafka_queue_full`.
        public var code: String
        /// For the human reading the reply.
        public var message: String
    }

    /// Empty when ready.
    public var reasons: [Reason]
    /// Ring bytes in use over ring bytes reserved, 0…1.
    public var ringFill: Double
    /// librdkafka's queue over its limit (bytes or messages, whichever is fuller), 0…1.
    public var kafkaQueueFill: Double
    public var brokersUp: Int?

    public var isReady: Bool { self.reasons.isEmpty }

    /// - Parameter highWater: the fill ratio (0…1) of the rings or librdkafka's queue at which we stop
    ///   being ready.
    public static func evaluate(
        draining: Bool,
        brokerReachable: Bool,
        ringUsedBytes: Int,
        ringReservedBytes: Int,
        kafka: KafkaStatistics?,
        highWater: Double
    ) -> Readiness {
        var reasons: [Reason] = []
        if draining {
            reasons.append(Reason(code: "draining", message: "the daemon is shutting down"))
        }
        if !brokerReachable {
            reasons.append(Reason(code: "broker_unreachable", message: "no Kafka broker answered the last check"))
        }
        let ringFill = ringReservedBytes > 0 ? Double(ringUsedBytes) / Double(ringReservedBytes) : 0
        if ringFill >= highWater {
            reasons.append(
                Reason(
                    code: "buffers_full",
                    message: "topic buffers are \(Int(ringFill * 100))% full (high-water mark \(Int(highWater * 100))%)"
                )
            )
        }
        var kafkaQueueFill = 0.0
        if let kafka {
            if kafka.queueMaxBytes > 0 { kafkaQueueFill = Double(kafka.queueBytes) / Double(kafka.queueMaxBytes) }
            if kafka.queueMaxMessages > 0 {
                kafkaQueueFill = max(kafkaQueueFill, Double(kafka.queueMessages) / Double(kafka.queueMaxMessages))
            }
            if kafkaQueueFill >= highWater {
                reasons.append(
                    Reason(
                        code: "kafka_queue_full",
                        message:
                            "librdkafka's queue is \(Int(kafkaQueueFill * 100))% full (high-water mark \(Int(highWater * 100))%)"
                    )
                )
            }
        }
        return Readiness(
            reasons: reasons,
            ringFill: ringFill,
            kafkaQueueFill: kafkaQueueFill,
            brokersUp: kafka?.brokersUp
        )
    }

    /// `{"ready":false,"reasons":[{"code":…,"message":…}],…}`; codes and messages hold no characters
    /// that need escaping beyond what `escaped` handles.
    public var json: String {
        var text = "{\"ready\":\(self.isReady),\"reasons\":["
        text += self.reasons.map {
            "{\"code\":\"\(Self.escaped($0.code))\",\"message\":\"\(Self.escaped($0.message))\"}"
        }.joined(separator: ",")
        text += "],\"ringFill\":\(Self.rounded(self.ringFill)),\"kafkaQueueFill\":\(Self.rounded(self.kafkaQueueFill))"
        if let brokersUp = self.brokersUp { text += ",\"brokersUp\":\(brokersUp)" }
        return text + "}"
    }

    private static func rounded(_ value: Double) -> String {
        String(Double(Int((value * 1000).rounded())) / 1000)
    }

    private static func escaped(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where scalar.value < 0x20:
                out +=
                    "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count)
                    + String(scalar.value, radix: 16)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}

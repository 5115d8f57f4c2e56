import Foundation
import Testing

extension IntegrationTests {
    @Suite("delivery acknowledgements (?ack=1)")
    struct Acks {
        @Test("every message gets an ack with its id, partition and real offset")
        func acks() async throws {
            let chat = uniqueChat("ack")
            let daemon = try await RunningDaemon.start(topics: ["kafka.chat.\(chat)"])
            let port = daemon.port
            let count = 300
            let texts = try await onThread { () -> [String] in
                let client = try TestWebSocketClient.connect(port: port, path: "/send-message/chat/\(chat)?ack=1")
                for index in 1...count {
                    switch index % 3 {
                    case 0: try client.sendText(#"{"sender":"a","text":"m\#(index)","tag":"t","id":"s-\#(index)"}"#)
                    case 1: try client.sendText(#"{"sender":"a","text":"m\#(index)","tag":"t","id":\#(index * 10)}"#)
                    default: try client.sendText(#"{"sender":"a","text":"m\#(index)","tag":"t"}"#)
                    }
                }
                return try (1...count).map { _ in try client.receiveText() }
            }
            let replies = try texts.map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
            var seen = Set<String>()
            var positions: [String: (Int, Int)] = [:]
            for reply in replies {
                let id = reply["ack"].map { "\($0)" }
                #expect(id != nil, "\(reply)")
                guard let id, let partition = reply["partition"] as? Int, let offset = reply["offset"] as? Int else {
                    continue
                }
                seen.insert(id)
                positions[id] = (partition, offset)
            }
            let expected = Set(
                (1...count).map { index -> String in
                    switch index % 3 {
                    case 0: return "s-\(index)"
                    case 1: return "\(index * 10)"
                    default: return "\(index)"  // no id: the message's position on the connection
                    }
                }
            )
            #expect(seen == expected)
            // The acked partition/offset holds exactly that message.
            let records = try daemon.reader().readRecords(of: "kafka.chat.\(chat)", count: count, timeoutSeconds: 20)
            #expect(records.count == count)
            let byPosition = Dictionary(
                uniqueKeysWithValues: records.map {
                    ("\($0.partition)/\($0.offset)", String(decoding: $0.value, as: UTF8.self))
                }
            )
            for (id, position) in positions where id.hasPrefix("s-") {
                let index = id.dropFirst(2)
                #expect(byPosition["\(position.0)/\(position.1)"] == #"{"sender":"a","text":"m\#(index)","tag":"t"}"#)
            }
            try await daemon.stop()
        }

        @Test("a message that cannot be delivered in message.timeout.ms is nacked and counted")
        func nackOnTimeout() async throws {
            let daemon = try await RunningDaemon.start { $0.messageTimeoutMilliseconds = 1500 }
            let port = daemon.port
            daemon.broker.setAllBrokers(up: false)
            let texts = try await onThread { () -> [String] in
                let client = try TestWebSocketClient.connect(port: port, path: "/send-message/global?ack=1")
                for index in 0..<5 {
                    try client.sendText(#"{"sender":"a","text":"lost? no: nacked","tag":"t","id":"n\#(index)"}"#)
                }
                return try (0..<5).map { _ in try client.receiveText() }
            }
            let replies = try texts.map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
            #expect(Set(replies.compactMap { $0["nack"] as? String }) == Set((0..<5).map { "n\($0)" }))
            for reply in replies {
                let error = reply["error"] as? [String: Any]
                #expect(error?["code"] as? String == "MSG_TIMED_OUT")
                #expect(reply["retriable"] as? Bool == true)
            }
            #expect(daemon.counters.failed == 5)
            let samples = try await IntegrationTests.Metrics.scrape(port).samples
            #expect(samples["kcp_messages_failed_total{error=\"timed_out\"}"] == 5)
            let counters = daemon.counters
            print(
                "FAULT message-timeout: accepted=\(counters.accepted) delivered=\(counters.delivered) failed=\(counters.failed) nacked=\(replies.count) metric timed_out=\(Int(samples["kcp_messages_failed_total{error=\"timed_out\"}"] ?? -1))"
            )
            daemon.broker.setAllBrokers(up: true)
            try await daemon.stop()
        }
    }
}

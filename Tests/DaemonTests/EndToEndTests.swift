import Foundation
import Testing

extension IntegrationTests {
    @Suite("end to end: WebSocket → Kafka")
    struct EndToEnd {
        @Test("both endpoints publish the canonical message to the right topic")
        func bothEndpoints() async throws {
            let chat = uniqueChat("room")
            let daemon = try await RunningDaemon.start()
            let port = daemon.port
            let sent = 200
            try await onThread {
                let global = try TestWebSocketClient.connect(port: port, path: "/send-message/global")
                let room = try TestWebSocketClient.connect(port: port, path: "/send-message/chat/\(chat)")
                for index in 0..<sent {
                    try global.sendText(#"{"sender":"alice","text":"hello \#(index)","tag":"g"}"#)
                    // Whitespace, an unknown field and an id are not published; field order becomes canonical.
                    try room.sendText(
                        #"{ "tag": "r", "id": \#(index), "extra": {"nested": [1, true, null]}, "text": "hi \#(index) \u00e9", "sender": "bob" }"#
                    )
                }
            }
            let globalValues = try daemon.values(in: "kafka.chat.global", expecting: sent)
            let roomValues = try daemon.values(in: "kafka.chat.\(chat)", expecting: sent)
            #expect(Set(globalValues) == Set((0..<sent).map { #"{"sender":"alice","text":"hello \#($0)","tag":"g"}"# }))
            #expect(globalValues.count == sent)
            #expect(Set(roomValues) == Set((0..<sent).map { #"{"sender":"bob","text":"hi \#($0) \u00e9","tag":"r"}"# }))
            #expect(roomValues.count == sent)
            // Every value is a JSON object with exactly the three fields.
            for value in roomValues.prefix(5) {
                let object = try JSONSerialization.jsonObject(with: Data(value.utf8)) as? [String: String]
                #expect(object?.keys.sorted() == ["sender", "tag", "text"])
            }
            try await daemon.stop()
            let counters = daemon.counters
            #expect(counters.accepted == 2 * sent)
            #expect(counters.delivered == 2 * sent)
            #expect(counters.failed == 0)
        }

        @Test("per-connection order is kept within a partition when keyed by sender")
        func orderWithSenderKey() async throws {
            let chat = uniqueChat("order")
            let daemon = try await RunningDaemon.start { $0.recordKey = .sender }
            let port = daemon.port
            let sent = 500
            try await onThread {
                let client = try TestWebSocketClient.connect(port: port, path: "/send-message/chat/\(chat)")
                for index in 0..<sent {
                    try client.sendText(#"{"sender":"s\u00e9","text":"\#(index)","tag":"t"}"#)
                }
            }
            let records = try daemon.reader().readRecords(of: "kafka.chat.\(chat)", count: sent, timeoutSeconds: 20)
            #expect(records.count == sent)
            #expect(Set(records.map(\.partition)).count == 1)
            // The key is the sender's decoded value.
            #expect(records.first?.key == Array("sé".utf8))
            let texts = records.sorted { $0.offset < $1.offset }.compactMap { record -> Int? in
                let object = try? JSONSerialization.jsonObject(with: Data(record.value)) as? [String: String]
                return object?["text"].flatMap(Int.init)
            }
            #expect(texts == Array(0..<sent))
            try await daemon.stop()
        }

        @Test("kafka.message_id_header: the id travels as a record header, the value stays the three fields")
        func messageIDHeader() async throws {
            let chat = uniqueChat("ids")
            // With sender keys too: the key is read from the value's start, which the id trailer must not move.
            let daemon = try await RunningDaemon.start {
                $0.messageIDHeader = "kcp-message-id"
                $0.recordKey = .sender
            }
            let port = daemon.port
            let sent: [(frame: String, header: String?)] = [
                (#"{"sender":"alice","text":"one","tag":"t","id":"m-1"}"#, "m-1"),
                (#"{"id":"m\u00e9-2","sender":"bob","text":"two","tag":"t"}"#, "mé-2"),
                (#"{"sender":"carol","text":"three","tag":"t","id":42}"#, "42"),
                (#"{"sender":"dave","text":"four","tag":"t"}"#, nil),
                // An empty string is an id too: its header has an empty value.
                (#"{"sender":"erin","text":"five","tag":"t","id":""}"#, ""),
            ]
            let replies = try await onThread {
                let client = try TestWebSocketClient.connect(port: port, path: "/send-message/chat/\(chat)?ack=1")
                for message in sent { try client.sendText(message.frame) }
                return try sent.map { _ in try client.receiveText() }
            }
            #expect(replies.allSatisfy { $0.hasPrefix(#"{"ack":"#) }, "\(replies)")
            let records = try daemon.reader().readRecords(
                of: "kafka.chat.\(chat)",
                count: sent.count,
                timeoutSeconds: 20
            )
            #expect(records.count == sent.count)
            let byText = Dictionary(
                uniqueKeysWithValues: try records.map { record in
                    let object = try #require(
                        JSONSerialization.jsonObject(with: Data(record.value)) as? [String: String]
                    )
                    #expect(object.keys.sorted() == ["sender", "tag", "text"])
                    return (object["text"]!, record)
                }
            )
            for (message, text) in zip(sent, ["one", "two", "three", "four", "five"]) {
                let record = try #require(byText[text])
                #expect(record.header("kcp-message-id").map { String(decoding: $0, as: UTF8.self) } == message.header)
                #expect(record.headers.count == (message.header == nil ? 0 : 1))
                #expect(
                    record.key.map { String(decoding: $0, as: UTF8.self) }
                        == message.frame.firstMatch(of: /"sender":"(\w+)"/).map { String($0.1) }
                )
            }
            try await daemon.stop()
            #expect(daemon.counters.delivered == sent.count)
        }

        @Test("50 connections to the global topic deliver every message")
        func manyConnections() async throws {
            let daemon = try await RunningDaemon.start()
            let port = daemon.port
            let connections = 50
            let perConnection = 200
            try await withThrowingTaskGroup(of: Void.self) { group in
                for connection in 0..<connections {
                    group.addTask {
                        try await onThread {
                            let client = try TestWebSocketClient.connect(port: port, path: "/send-message/global")
                            for index in 0..<perConnection {
                                try client.sendText(#"{"sender":"c\#(connection)","text":"\#(index)","tag":"load"}"#)
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
            let total = connections * perConnection
            #expect(await eventually(seconds: 20) { daemon.counters.delivered == total })
            #expect(try daemon.reader().recordCount(of: "kafka.chat.global") == Int64(total))
            try await daemon.stop()
            #expect(daemon.counters.failed == 0)
        }
    }
}

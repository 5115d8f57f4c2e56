import Foundation
import Testing

extension IntegrationTests {
    @Suite("RFC 6455 and the message contract on a live daemon")
    struct LiveProtocol {
        /// The frames a broken or hostile client sends, by name (the names keep test output readable).
        static func violationBytes(_ name: String) -> [UInt8] {
            switch name {
            case "unmasked frame":
                return TestWebSocketClient.frame(
                    opcode: 1,
                    payload: Array(#"{"sender":"a","text":"b","tag":"c"}"#.utf8),
                    mask: nil
                )
            case "reserved bit": return TestWebSocketClient.frame(opcode: 1, payload: Array("{}".utf8), rsv: 4)
            case "unknown opcode": return TestWebSocketClient.frame(opcode: 3, payload: [])
            case "fragmented ping": return TestWebSocketClient.frame(opcode: 9, payload: [1], fin: false)
            case "long ping": return TestWebSocketClient.frame(opcode: 9, payload: [UInt8](repeating: 0, count: 126))
            case "continuation without start": return TestWebSocketClient.frame(opcode: 0, payload: [1])
            case "invalid UTF-8":
                return TestWebSocketClient.frame(
                    opcode: 1,
                    payload: Array(#"{"sender":"a","text":""#.utf8) + [0xC3, 0x28] + Array(#"","tag":"c"}"#.utf8)
                )
            case "oversized message":
                return TestWebSocketClient.frame(opcode: 1, payload: [UInt8](repeating: 0x20, count: 70_000))
            default: return []
            }
        }

        @Test(
            "protocol violations close with the right code; other connections carry on",
            arguments: [
                ("unmasked frame", UInt16(1002)), ("reserved bit", 1002), ("unknown opcode", 1002),
                ("fragmented ping", 1002),
                ("long ping", 1002), ("continuation without start", 1002), ("invalid UTF-8", 1007),
                ("oversized message", 1009),
            ]
        )
        func violations(name: String, expectedCode: UInt16) async throws {
            let bytes = Self.violationBytes(name)
            #expect(!bytes.isEmpty)
            let chat = uniqueChat("violation")
            let daemon = try await RunningDaemon.start()
            let port = daemon.port
            try await onThread {
                let healthy = try TestWebSocketClient.connect(port: port, path: "/send-message/chat/\(chat)?ack=1")
                let bad = try TestWebSocketClient.connect(port: port, path: "/send-message/chat/\(chat)")
                try bad.send(bytes)
                let close = try bad.receiveClose()
                #expect(close.code == expectedCode, "\(name)")
                #expect(!close.reason.isEmpty)
                #expect(bad.waitForEOF())
                try healthy.sendText(#"{"sender":"ok","text":"still here","tag":"t","id":"h1"}"#)
                #expect(try healthy.receiveText().hasPrefix(#"{"ack":"h1","partition":"#))
            }
            let values = try daemon.values(in: "kafka.chat.\(chat)", expecting: 2, timeoutSeconds: 3)
            #expect(values == [#"{"sender":"ok","text":"still here","tag":"t"}"#])
            try await daemon.stop()
        }

        @Test("bad payloads get an error reply, the connection stays open, nothing is published")
        func badPayloads() async throws {
            let chat = uniqueChat("payload")
            let daemon = try await RunningDaemon.start()
            let port = daemon.port
            try await onThread {
                let client = try TestWebSocketClient.connect(port: port, path: "/send-message/chat/\(chat)")
                let cases: [(String, String)] = [
                    ("not json", "invalid_json"),
                    ("[1,2]", "not_an_object"),
                    (#"{"sender":"a","text":"b","id":7}"#, "missing_field"),
                    (#"{"sender":"a","text":5,"tag":"c","id":"x9"}"#, "wrong_type"),
                    (#"{"sender":"a","sender":"b","text":"c","tag":"d"}"#, "duplicate_field"),
                    (#"{"sender":"a","text":"b","tag":"c""#, "invalid_json"),
                ]
                for (payload, reason) in cases {
                    try client.sendText(payload)
                    let reply = try client.receiveText()
                    let object = try JSONSerialization.jsonObject(with: Data(reply.utf8)) as? [String: Any]
                    let error = object?["error"] as? [String: Any]
                    #expect(error?["code"] as? String == "invalid_message", "\(payload)")
                    #expect(error?["reason"] as? String == reason, "\(payload)")
                    #expect((error?["message"] as? String)?.isEmpty == false)
                    if payload.contains(#""id":7"#) { #expect(object?["id"] as? Int == 7) }
                    if payload.contains(#""id":"x9""#) { #expect(object?["id"] as? String == "x9") }
                }
                try client.sendFrame(opcode: 2, payload: [1, 2, 3])
                #expect(try client.receiveText().contains("unsupported_frame"))
                // Still open and working.
                try client.sendText(#"{"sender":"a","text":"fine","tag":"c"}"#)
                try client.sendFrame(opcode: 9, payload: Array("ping!".utf8))
                let pong = try client.receiveFrame()
                #expect(pong.opcode == 0xA)
                #expect(pong.payload == Array("ping!".utf8))
            }
            let values = try daemon.values(in: "kafka.chat.\(chat)", expecting: 2, timeoutSeconds: 3)
            #expect(values == [#"{"sender":"a","text":"fine","tag":"c"}"#])
            try await daemon.stop()
            #expect(daemon.counters.rejected == 7)
            #expect(daemon.counters.accepted == 1)
        }

        @Test("fragmented messages with control frames in between are reassembled and published")
        func fragments() async throws {
            let chat = uniqueChat("fragments")
            let daemon = try await RunningDaemon.start()
            let port = daemon.port
            try await onThread {
                let client = try TestWebSocketClient.connect(port: port, path: "/send-message/chat/\(chat)")
                // "é" (C3 A9) split across fragments, a ping in the middle.
                let message = Array(#"{"sender":"frag","text":"caf"#.utf8) + [0xC3]
                try client.sendFrame(opcode: 1, payload: message, fin: false)
                try client.sendFrame(opcode: 9, payload: [7])
                try client.sendFrame(opcode: 0, payload: [0xA9] + Array(#"","#.utf8), fin: false)
                try client.sendFrame(opcode: 0, payload: Array(#""tag":"x"}"#.utf8), fin: true)
                let pong = try client.receiveFrame()
                #expect(pong.opcode == 0xA && pong.payload == [7])
                // Invalid UTF-8 in a later fragment fails fast with 1007, before the final fragment.
                try client.sendFrame(opcode: 1, payload: Array(#"{"sender":""#.utf8), fin: false)
                try client.sendFrame(opcode: 0, payload: [0xED, 0xA0, 0x80], fin: false)
                let close = try client.receiveClose()
                #expect(close.code == 1007)
            }
            let values = try daemon.values(in: "kafka.chat.\(chat)", expecting: 2, timeoutSeconds: 3)
            #expect(values == [#"{"sender":"frag","text":"café","tag":"x"}"#])
            try await daemon.stop()
        }

        @Test("close handshake: the server echoes the client's close and ends the connection")
        func closeHandshake() async throws {
            let daemon = try await RunningDaemon.start()
            let port = daemon.port
            try await onThread {
                let client = try TestWebSocketClient.connect(port: port, path: "/send-message/global")
                try client.sendClose(code: 1000, reason: "bye")
                let close = try client.receiveClose()
                #expect(close.code == 1000)
                #expect(client.waitForEOF())

                let invalid = try TestWebSocketClient.connect(port: port, path: "/send-message/global")
                try invalid.sendClose(code: 1005)
                #expect(try invalid.receiveClose().code == 1002)
            }
            #expect(await eventually { daemon.daemon.activeConnections == 0 })
            try await daemon.stop()
        }
    }
}

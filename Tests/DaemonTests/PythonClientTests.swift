import Foundation
import Testing

extension IntegrationTests {
    /// The Python reference client (clients/python) against the real daemon, case by case; its fault run is
    /// in ClientFaultTests. The JavaScript client's counterpart runs in a browser (APIDocsTests).
    @Suite("the Python reference client")
    struct PythonClient {
        @Test(
            "50 messages acked with send and send_nowait, the window kept, MessageRejected, close, a 1009 close fails"
        )
        func pythonClient() async throws {
            let python = try await APIDocs.python()
            let daemon = try await RunningDaemon.start()
            let chat = uniqueChat("pyclient")
            let script = NginxProxy.repositoryRoot.appendingPathComponent("Tests/Scripts/python_client_check.py").path
            let run = try await ToolRun.run(
                python,
                [script, "--url", "ws://127.0.0.1:\(daemon.port)/send-message/chat/\(chat)", "--count", "50"]
            )
            #expect(run.status == 0, "\(run.output)")
            let result = try APIDocs.finalJSON(run)
            #expect(result["ok"] as? Bool == true, "\(result["error"] ?? "")")
            // Every acked text is in Kafka; the refused ones (a number as text, the 70 kB one) are not.
            let texts = try #require(result["texts"] as? [String])
            #expect(texts.count == 50)
            let landed = try daemon.values(in: "kafka.chat.\(chat)", expecting: texts.count)
            let landedTexts = landed.compactMap {
                (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: String])?["text"]
            }
            #expect(landedTexts.sorted() == texts.sorted())
            #expect(daemon.counters.accepted == 50)
            try await daemon.stop()
        }
    }
}

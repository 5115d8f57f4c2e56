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
            try APIDocs.expectClientCheck(run, sent: 50, daemon: daemon, chat: chat)
            try await daemon.stop()
        }
    }
}

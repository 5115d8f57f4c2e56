import Crypto
import Foundation
import Monitoring
import Testing

extension IntegrationTests {
    /// The interface description: `/asyncapi.json` (validated, and its examples sent to a live daemon),
    /// the `/docs` page (served self-contained, then driven in Debian's headless chromium), and the old
    /// documentation paths.
    @Suite("API docs: AsyncAPI document, /docs page, browser console")
    struct APIDocs {
        static let documentFile = NginxProxy.repositoryRoot.appendingPathComponent(
            "Sources/APIDocs/Resources/asyncapi.json"
        )
        static let pageFile = NginxProxy.repositoryRoot.appendingPathComponent("Sources/APIDocs/Resources/docs.html")
        static let clientModuleFile = NginxProxy.repositoryRoot.appendingPathComponent(
            "clients/javascript/kafka-chat-producer-client.js"
        )

        static func get(
            _ port: Int,
            _ path: String,
            headers: [(String, String)] = [],
            method: String = "GET"
        ) async throws -> TestWebSocketClient.HTTPResponse {
            try await onThread {
                try TestWebSocketClient(port: port).handshake(path: path, headers: headers, method: method)
            }
        }

        /// The test tooling's Python (a venv with the pinned Tests/Scripts/requirements.txt).
        static func python() async throws -> String {
            let run = try await ToolRun.run(
                NginxProxy.repositoryRoot.appendingPathComponent("scripts/python-tools").path,
                []
            )
            guard run.status == 0, let python = run.lines.last, python.hasSuffix("/python") else {
                throw ToolFailure(tool: "scripts/python-tools", output: run.output)
            }
            return python
        }

        struct ToolFailure: Error, CustomStringConvertible {
            var tool: String
            var output: String
            var description: String { "\(self.tool) failed:\n\(self.output)" }
        }

        /// The last line of a tool that ends with one JSON object.
        static func finalJSON(_ run: ToolRun) throws -> [String: Any] {
            guard let line = run.lines.last,
                let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            else {
                throw ToolFailure(tool: "JSON result", output: run.output)
            }
            return object
        }

        static func checker(_ python: String, _ document: URL, _ extra: [String] = []) async throws -> ToolRun {
            let script = NginxProxy.repositoryRoot.appendingPathComponent("Tests/Scripts/asyncapi_check.py").path
            return try await ToolRun.run(python, [script, document.path] + extra)
        }

        @Test(
            "the daemon serves the repository's files: ETag and 304, a CSP that admits only the page's own script and style and the daemon's client module, 301 from the old paths"
        )
        func serving() async throws {
            let daemon = try await RunningDaemon.start()
            let port = daemon.port

            let document = try await Self.get(port, "/asyncapi.json")
            #expect(document.status == 200)
            #expect(document.header("Content-Type") == "application/json")
            #expect(document.body == (try String(contentsOf: Self.documentFile, encoding: .utf8)))
            let info = try #require(
                (try JSONSerialization.jsonObject(with: Data(document.body.utf8)) as? [String: Any])?["info"]
                    as? [String: Any]
            )
            #expect(
                info["version"] as? String == BuildInfo.version,
                "asyncapi.json info.version must follow BuildInfo.version"
            )

            let page = try await Self.get(port, "/docs")
            let pageSource = try String(contentsOf: Self.pageFile, encoding: .utf8)
            #expect(page.status == 200)
            #expect(page.header("Content-Type") == "text/html; charset=utf-8")
            #expect(page.body == pageSource)
            #expect(
                !pageSource.contains("http://") && !pageSource.contains("https://"),
                "the page must not load anything from elsewhere"
            )

            // The policy names exactly the hashes of the page's inline blocks, computed here independently.
            func hash(of tag: String) throws -> String {
                let start = try #require(pageSource.range(of: "<\(tag)>"))
                let end = try #require(pageSource.range(of: "</\(tag)>", range: start.upperBound..<pageSource.endIndex))
                let digest = SHA256.hash(data: Data(pageSource[start.upperBound..<end.lowerBound].utf8))
                return "'sha256-\(Data(digest).base64EncodedString())'"
            }
            let policy = try #require(page.header("Content-Security-Policy"))
            #expect(policy.contains("default-src 'none'"))
            #expect(policy.contains("script-src \(try hash(of: "script")) 'self';"), "\(policy)")
            #expect(policy.contains("style-src \(try hash(of: "style"));"), "\(policy)")
            #expect(policy.contains("connect-src 'self'"))
            #expect(!policy.contains("unsafe"))
            #expect(pageSource.components(separatedBy: "<script").count == 2, "one inline script, no external ones")

            // The JavaScript client the console imports: the file in clients/javascript (the resource is a
            // symlink to it), as a module script the page's policy admits ('self').
            let module = try await Self.get(port, "/docs/kafka-chat-producer-client.js")
            #expect(module.status == 200)
            #expect(module.header("Content-Type") == "text/javascript; charset=utf-8")
            #expect(module.header("X-Content-Type-Options") == "nosniff")
            #expect(module.body == (try String(contentsOf: Self.clientModuleFile, encoding: .utf8)))
            #expect(module.body.contains("export class Client"))
            let moduleTag = try #require(module.header("ETag"))
            let moduleAgain = try await Self.get(
                port,
                "/docs/kafka-chat-producer-client.js",
                headers: [("If-None-Match", moduleTag)]
            )
            #expect(moduleAgain.status == 304)
            #expect(try await Self.get(port, "/docs/kafka-chat-producer-client.js", method: "POST").status == 405)

            let tag = try #require(page.header("ETag"))
            let revalidated = try await Self.get(port, "/docs", headers: [("If-None-Match", tag)])
            #expect(revalidated.status == 304)
            #expect(revalidated.body.isEmpty)
            let head = try await Self.get(port, "/asyncapi.json", method: "HEAD")
            #expect(head.status == 200 && head.body.isEmpty)
            #expect(try await Self.get(port, "/docs", method: "POST").status == 405)

            for (old, new) in [
                ("/redoc", "/docs"), ("/docs/oauth2-redirect", "/docs"), ("/docs/", "/docs"),
                ("/openapi.json", "/asyncapi.json"),
            ] {
                let moved = try await Self.get(port, old)
                #expect(moved.status == 301, "\(old)")
                #expect(moved.header("Location") == new, "\(old)")
            }
            try await daemon.stop()
        }

        @Test(
            "http.docs = false: /docs, /asyncapi.json and the old paths answer 404; the chat endpoints are unaffected"
        )
        func docsOff() async throws {
            let daemon = try await RunningDaemon.start { $0.serveDocs = false }
            let port = daemon.port
            for path in ["/docs", "/asyncapi.json", "/docs/kafka-chat-producer-client.js", "/redoc", "/openapi.json"] {
                let response = try await Self.get(port, path)
                #expect(response.status == 404, "\(path)")
                #expect(response.body.contains(#""code":"not_found""#))
            }
            let chat = uniqueChat("nodocs")
            try await onThread {
                let client = try TestWebSocketClient.connect(port: port, path: "/send-message/chat/\(chat)?ack=1")
                try client.sendText(#"{"sender":"a","text":"b","tag":"c"}"#)
                #expect(try client.receiveText().hasPrefix(#"{"ack":1,"#))
            }
            try await daemon.stop()
        }

        @Test("asyncapi.json is a valid AsyncAPI 3.0 document, and the checker catches broken ones")
        func documentValidates() async throws {
            let python = try await Self.python()
            let valid = try await Self.checker(python, Self.documentFile)
            print("ASYNCAPI document: \(valid.lines.joined(separator: " | "))")
            #expect(valid.status == 0, "\(valid.output)")

            // Each break must be reported: the checker is not a formality.
            let original = try JSONSerialization.jsonObject(with: Data(contentsOf: Self.documentFile)) as! [String: Any]
            let breaks: [(name: String, path: [String], value: Any, expected: String)] = [
                ("unknown root field", ["bogus"], 1, "bogus"),
                (
                    "dangling $ref", ["channels", "global", "messages"],
                    ["chatMessage": ["$ref": "#/components/messages/nope"]], "does not resolve"
                ),
                (
                    "example without tag", ["components", "messages", "chatMessage", "examples"],
                    [["name": "broken", "payload": ["sender": "a", "text": "b"]]], "'tag' is a required property"
                ),
                (
                    "undeclared channel parameter", ["channels", "chat", "address"], "/send-message/chat/{chat}/{room}",
                    "address parameters"
                ),
            ]
            /// The document with the value at `path` (object keys from the root) replaced.
            func replacing(_ path: ArraySlice<String>, with value: Any, in object: [String: Any]) -> [String: Any] {
                var object = object
                guard let key = path.first else { return object }
                object[key] =
                    path.count == 1
                    ? value : replacing(path.dropFirst(), with: value, in: object[key] as? [String: Any] ?? [:])
                return object
            }
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
                "asyncapi-\(UUID().uuidString)"
            )
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            for (name, path, value, expected) in breaks {
                let broken = replacing(path[...], with: value, in: original)
                let file = directory.appendingPathComponent("\(name.replacingOccurrences(of: " ", with: "-")).json")
                try JSONSerialization.data(withJSONObject: broken).write(to: file)
                let run = try await Self.checker(python, file)
                #expect(run.status == 1, "\(name): \(run.output)")
                #expect(run.output.contains(expected), "\(name): \(run.output)")
            }
        }

        @Test("every example of the document, sent to a running daemon, gets the documented reply and lands in Kafka")
        func examplesAgainstTheDaemon() async throws {
            let python = try await Self.python()
            let daemon = try await RunningDaemon.start()
            let chat = uniqueChat("examples")
            let run = try await Self.checker(
                python,
                Self.documentFile,
                ["--live", "ws://127.0.0.1:\(daemon.port)", "--chat", chat]
            )
            print("ASYNCAPI live: \(run.lines.joined(separator: " | "))")
            #expect(run.status == 0, "\(run.output)")
            let records = try #require(try Self.finalJSON(run)["records"] as? [String: [String]])
            #expect(Set(records.keys) == ["kafka.chat.global", "kafka.chat.\(chat)"])
            for (topic, expected) in records {
                let landed = try daemon.values(in: topic, expecting: expected.count)
                #expect(landed.sorted() == expected.sorted(), "\(topic)")
            }
            // The error examples were refused, not published.
            let counters = daemon.counters
            #expect(counters.accepted == records.values.reduce(0) { $0 + $1.count })
            try await daemon.stop()
        }

        @Test(
            "headless chromium opens /docs, sends a message from the console, sees its ack, and the message is in Kafka"
        )
        func browserConsole() async throws {
            let python = try await Self.python()
            let daemon = try await RunningDaemon.start()
            let chat = uniqueChat("browser")
            let text = "hello from the browser \(UUID().uuidString.prefix(8))"
            let screenshot = NginxProxy.repositoryRoot.appendingPathComponent("artifacts/docs/docs-console.png")
            let script = NginxProxy.repositoryRoot.appendingPathComponent("Tests/Scripts/docs_console_browser.py").path
            let run = try await ToolRun.run(
                python,
                [
                    script, "--base-url", "http://127.0.0.1:\(daemon.port)", "--chat", chat, "--sender", "browser-test",
                    "--text", text, "--tag", "docs", "--screenshot", screenshot.path,
                ]
            )
            print("BROWSER: \(run.lines.suffix(3).joined(separator: " | "))")
            #expect(run.status == 0, "\(run.output)")
            let result = try Self.finalJSON(run)
            #expect(result["ok"] as? Bool == true)
            let ack = try #require(result["ack"] as? [String: Any])
            let partition = try #require(ack["partition"] as? Int)
            let offset = try #require(ack["offset"] as? Int)
            #expect(FileManager.default.fileExists(atPath: screenshot.path))

            // The record the page was acked for is at that partition and offset, with the console's fields.
            let records = try daemon.reader().readRecords(of: "kafka.chat.\(chat)", count: 1, timeoutSeconds: 20)
            let record = try #require(records.first)
            #expect(Int(record.partition) == partition && Int(record.offset) == offset)
            let value = try #require(try JSONSerialization.jsonObject(with: Data(record.value)) as? [String: String])
            #expect(value == ["sender": "browser-test", "text": text, "tag": "docs"])
            try await daemon.stop()
        }

        @Test(
            "the JavaScript client in headless chromium, imported from /docs: 50 messages acked, MessageRejected, flush and close, a 1009 close fails"
        )
        func javaScriptClient() async throws {
            let python = try await Self.python()
            let daemon = try await RunningDaemon.start()
            let chat = uniqueChat("jsclient")
            let script = NginxProxy.repositoryRoot.appendingPathComponent("Tests/Scripts/js_client_browser.py").path
            let run = try await ToolRun.run(
                python,
                [script, "--base-url", "http://127.0.0.1:\(daemon.port)", "--chat", chat, "--count", "50"]
            )
            print("JS CLIENT: \(run.lines.suffix(2).joined(separator: " | "))")
            try Self.expectClientCheck(run, sent: 50, daemon: daemon, chat: chat)
            try await daemon.stop()
        }

        /// The verdict of a reference client's check script (js_client_browser.py, python_client_check.py):
        /// it passed, and every text it had acked is in Kafka while the refused ones (a number as text, the
        /// 70 kB message) are not.
        static func expectClientCheck(_ run: ToolRun, sent: Int, daemon: RunningDaemon, chat: String) throws {
            #expect(run.status == 0, "\(run.output)")
            let result = try Self.finalJSON(run)
            #expect(result["ok"] as? Bool == true, "\(result["error"] ?? "")")
            let texts = try #require(result["texts"] as? [String])
            #expect(texts.count == sent)
            let landed = try daemon.values(in: "kafka.chat.\(chat)", expecting: texts.count)
            let landedTexts = landed.compactMap {
                (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: String])?["text"]
            }
            #expect(landedTexts.sorted() == texts.sorted())
            #expect(daemon.counters.accepted == sent)
        }
    }
}

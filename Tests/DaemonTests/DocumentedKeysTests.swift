import Foundation
import Testing

/// The documents name only configuration keys the daemon has, and docs/configuration.md names all of them.
///
/// The keys come from the built daemon's `--list-keys`. A key counts as named wherever `section.key`
/// appears for a section the daemon has (`listen`, `kafka`, `limits`, …; in prose, backticks, code
/// blocks, `key = value` lines and JSON strings alike), so a misspelt or invented key under a real section
/// is caught. Not checked: `librdkafka.<property>` (passed through to librdkafka), patterns such as
/// `auth.jwt_*` or `buffer.*`, topic names such as `kafka.chat.{chat}` (a second dot) and file names such
/// as `testing.md`. `KCP_…` environment variables must likewise be the variable of a key.
@Suite("documented configuration keys")
struct DocumentedKeysTests {
    /// The files whose key names are checked, relative to the repository root (`docs/*.md` is expanded).
    static let documents = ["README.md", "docs/*.md", "config/*.conf", "Sources/APIDocs/Resources/asyncapi.json"]

    /// Variables the scripts and tests read that are not configuration keys.
    static let toolVariables: Set<String> = ["KCP_BINARY", "KCP_SANITIZER", "KCP_PYTHON_TOOLS"]

    /// `section.key` after which these follow is a file name, not a key (`testing.md`).
    static let fileExtensions: Set<String> = [
        "md", "json", "conf", "html", "yml", "yaml", "swift", "py", "sh", "png", "txt",
    ]

    struct ListedKeys {
        var keys: Set<String> = []
        var environment: Set<String> = []
        var sections: Set<String> { Set(self.keys.map { String($0.split(separator: ".", maxSplits: 1)[0]) }) }
    }

    /// `kafka-chat-producer --list-keys`: a `key = default` line per key, then indented summary and
    /// `environment: KCP_…` lines.
    static func listedKeys() async throws -> ListedKeys {
        let (status, output) = try await DaemonProcess.run(["--list-keys"])
        try #require(status == 0, "--list-keys failed: \(output)")
        var listed = ListedKeys()
        for line in output.split(separator: "\n") {
            if line.hasPrefix(" ") {
                let text = line.trimmingCharacters(in: .whitespaces)
                if text.hasPrefix("environment: KCP_"),
                    let name = text.dropFirst("environment: ".count).split(separator: " ").first
                {
                    listed.environment.insert(String(name))
                }
            } else if let equals = line.range(of: " = ") {
                let key = String(line[..<equals.lowerBound])
                if !key.hasPrefix("librdkafka.") { listed.keys.insert(key) }
            }
        }
        try #require(listed.keys.count > 40, "--list-keys printed too few keys: \(output)")
        return listed
    }

    static func matches(of pattern: String, in text: String) -> [String] {
        let expression = try! NSRegularExpression(pattern: pattern)
        let range = NSRange(text.startIndex..<text.endIndex, in: text)
        return expression.matches(in: text, range: range).compactMap {
            Range($0.range, in: text).map { String(text[$0]) }
        }
    }

    /// Every `section.key` in `text` for one of `sections`, in order of appearance.
    static func mentionedKeys(in text: String, sections: Set<String>) -> [String] {
        let alternatives = sections.sorted().map { NSRegularExpression.escapedPattern(for: $0) }.joined(separator: "|")
        // Not part of a longer name on the left (librdkafka.…, a path) nor on the right (a second dot:
        // kafka.chat.global; a pattern: auth.jwt_*, librdkafka.<property>).
        let pattern = #"(?<![A-Za-z0-9_.\-/])(?:"# + alternatives + #")\.[a-z0-9_]+(?![A-Za-z0-9_.*<{\-])"#
        return Self.matches(of: pattern, in: text).filter { key in
            !Self.fileExtensions.contains(String(key.split(separator: ".").last!))
        }
    }

    /// Every `KCP_…` variable in `text` that should be a key's: not librdkafka's, not a tool's.
    static func mentionedVariables(in text: String) -> [String] {
        Self.matches(of: #"(?<![A-Za-z0-9_])KCP_[A-Z0-9_]*[A-Z0-9](?![A-Za-z0-9_*<])"#, in: text).filter { name in
            !name.hasPrefix("KCP_LIBRDKAFKA_") && !Self.toolVariables.contains(name)
        }
    }

    /// The files named by `documents`, relative to the repository root, with their text.
    static func documentTexts() throws -> [(path: String, text: String)] {
        let root = NginxProxy.repositoryRoot
        var paths: [String] = []
        for entry in Self.documents {
            if let star = entry.range(of: "*") {
                let directory = String(entry[..<star.lowerBound])
                let suffix = String(entry[star.upperBound...])
                let names = try FileManager.default.contentsOfDirectory(
                    atPath: root.appendingPathComponent(directory).path
                )
                paths += names.filter { $0.hasSuffix(suffix) }.sorted().map { directory + $0 }
            } else {
                paths.append(entry)
            }
        }
        return try paths.map { ($0, try String(contentsOf: root.appendingPathComponent($0), encoding: .utf8)) }
    }

    @Test("the extraction finds keys where they are written, and skips topics, patterns and file names")
    func extraction() {
        let sections: Set<String> = ["listen", "kafka", "auth", "testing", "buffer"]
        let text = """
            Set `listen.port`, listen.hots = 1, "kafka.linger_ms" and --set kafka.acks=all; topic kafka.chat.global,
            kafka.chat.{chat}, librdkafka.security.protocol, auth.jwt_*, buffer.*, [testing.md](testing.md), KCP_KAFKA_ACKS,
            KCP_LIBRDKAFKA_SSL_CA_LOCATION, KCP_*, KCP_BINARY.
            """
        #expect(
            Self.mentionedKeys(in: text, sections: sections) == [
                "listen.port", "listen.hots", "kafka.linger_ms", "kafka.acks",
            ]
        )
        #expect(Self.mentionedVariables(in: text) == ["KCP_KAFKA_ACKS"])
    }

    @Test("every configuration key the documents name exists (kafka-chat-producer --list-keys)")
    func documentedKeysExist() async throws {
        let listed = try await Self.listedKeys()
        var unknown: [String] = []
        var checked = 0
        for (path, text) in try Self.documentTexts() {
            for key in Self.mentionedKeys(in: text, sections: listed.sections) {
                checked += 1
                if !listed.keys.contains(key) { unknown.append("\(path): `\(key)` is not a configuration key") }
            }
            for variable in Self.mentionedVariables(in: text) where !listed.environment.contains(variable) {
                unknown.append("\(path): \(variable) is not the environment variable of a configuration key")
            }
        }
        #expect(checked > 100, "the documents name suspiciously few keys (\(checked)): is the extraction broken?")
        var reported: Set<String> = []
        for line in unknown where reported.insert(line).inserted {
            Issue.record("\(line)")
        }
    }

    @Test("docs/configuration.md names every key")
    func everyKeyDocumented() async throws {
        let listed = try await Self.listedKeys()
        let text = try String(
            contentsOf: NginxProxy.repositoryRoot.appendingPathComponent("docs/configuration.md"),
            encoding: .utf8
        )
        let missing = listed.keys.sorted().filter { !text.contains("`\($0)`") }
        #expect(
            missing.isEmpty,
            "docs/configuration.md does not name \(missing.map { "`\($0)`" }.joined(separator: ", "))"
        )
    }
}

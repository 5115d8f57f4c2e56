import Foundation
import Kafka
import Testing

extension IntegrationTests {
    /// The reference clients (issue 14) against the faults docs/clients.md tells them to survive: each one
    /// sends a stream of messages while the broker hangs, the daemon restarts and the network resets its
    /// connection, and every message must end up in Kafka (at least once; exactly once after deduplicating
    /// by the message-id header). They test the clients: the daemon's side of these faults is tested in
    /// FaultTests, ShutdownTests and RollingRestart, so a sanitizer run skips them (half a minute each).
    @Suite(
        "reference clients under faults: broker hang, daemon restart, connection resets",
        .enabled(
            if: ProcessInfo.processInfo.environment["KCP_SANITIZER"] == nil,
            "tests the reference clients, not the daemon (whose side of these faults other suites cover)"
        )
    )
    struct ClientFaults {
        /// One reference client's fault runner in Tests/Scripts.
        struct Runner: Sendable, CustomTestStringConvertible {
            var name: String
            var script: String
            /// Why this runner cannot run here, if it cannot.
            var unavailable: @Sendable () -> String?

            var testDescription: String { self.name }
            var url: URL { NginxProxy.repositoryRoot.appendingPathComponent("Tests/Scripts/\(self.script)") }
        }

        static let runners = [
            Runner(name: "python", script: "python_client_fault_run.py") { nil },
            Runner(name: "javascript", script: "js_client_fault_run.py") {
                let script = NginxProxy.repositoryRoot.appendingPathComponent("Tests/Scripts/js_client_fault_run.py")
                if !FileManager.default.fileExists(atPath: script.path) {
                    return "Tests/Scripts/js_client_fault_run.py (the JavaScript client's runner) is not there yet"
                }
                if !FileManager.default.isExecutableFile(atPath: "/usr/bin/chromium") {
                    return "no /usr/bin/chromium: run scripts/install-deps (Debian package chromium)"
                }
                return nil
            },
        ]

        /// The header the daemon puts each message's id in (`kafka.message_id_header`).
        static let idHeader = "kcp-message-id"

        struct Record: Decodable {
            var sender: String
            var text: String
            var tag: String
        }

        @Test(
            "every message sent during a broker hang, a daemon restart and connection resets is in Kafka",
            arguments: runners
        )
        func loseNothing(runner: Runner) async throws {
            if let reason = runner.unavailable() {
                // Said on stdout too: the console reporter shows a cancelled case no differently from a pass.
                print("CLIENT-FAULTS \(runner.name): skipped: \(reason)")
                try Test.cancel("\(runner.name) skipped: \(reason)")
            }
            // Outside the timing: it may have to install the test tooling's venv (a minute).
            let python = try await ResendClients.python()
            let started = ContinuousClock.now
            // 30 s of messages at the nominal rate: enough for the faults to happen while they flow.
            let count = 9000
            let rate = 300
            let chat = uniqueChat("faults")
            let topic = "kafka.chat.\(chat)"
            let prefix = "\(runner.name)-\(UInt32.random(in: 0...UInt32.max))"
            let broker = try MockCluster(brokers: 1)
            try broker.createTopic(topic, partitions: 3)
            let bootstrap = broker.bootstrapServers

            // The default delivery timeout (5 minutes): the messages must outlast the hang, not fail in it.
            let daemon = try await RestartableDaemon(
                name: "daemon",
                bootstrap: bootstrap,
                extraArguments: ["--set", "kafka.message_id_header=\(Self.idHeader)"]
            )
            try await daemon.waitUntilReady()
            let proxy = try await ResetProxy(python: python, upstreamPort: daemon.port)
            let load = try ClientFaultRunner(
                python: python,
                script: runner.url,
                baseURL: "http://127.0.0.1:\(proxy.port)",
                chat: chat,
                count: count,
                rate: rate,
                prefix: prefix
            )
            func diagnostics() -> String {
                "runner:\n\(load.log.suffix(3000))\nproxy:\n\(proxy.log.suffix(1000))\n"
                    + "daemon:\n\(daemon.process.log.suffix(2000))"
            }
            /// Waits for `more` acks past `since` (at least `seconds` later): the faults come while messages flow.
            /// A stall is an issue, and the run goes on to the runner's final line and the topic's contents.
            func progressed(
                _ more: Int,
                since: ClientFaultRunner.Report?,
                atLeast seconds: Double = 0
            ) async throws -> ClientFaultRunner.Report? {
                let from = since?.acked ?? 0
                if seconds > 0 { try await Task.sleep(for: .milliseconds(Int(seconds * 1000))) }
                let report = await load.waitFor(seconds: 40) { $0.acked >= from + more }
                if report == nil { Issue.record("no progress past \(from) acks: \(diagnostics())") }
                return report
            }
            var faults: [String] = []
            func fault(_ name: String, at report: ClientFaultRunner.Report) {
                faults.append("\(name) at sent=\(report.sent) acked=\(report.acked) (\(ContinuousClock.now - started))")
                // Mid-stream: messages were still to come.
                #expect(report.sent < count, "\(name) came after the last message was sent")
            }

            var resets: [Int] = []
            faultSequence: do {
                // (a) The broker hangs for 10 s with its connections open: acks stop, the window fills.
                guard var progress = try await progressed(600, since: nil) else { break faultSequence }
                fault("broker hang", at: progress)
                broker.setRoundTripTime(1, milliseconds: 10_000)
                try await Task.sleep(for: .seconds(10))
                broker.setRoundTripTime(1, milliseconds: 0)
                if let end = load.progress {
                    faults.append("  its end: sent=\(end.sent) acked=\(end.acked) inFlight=\(end.inFlight)")
                }

                // (b) The daemon restarts: drain (1001), exit, a new process on the same port.
                guard let next = try await progressed(600, since: progress) else { break faultSequence }
                progress = next
                fault("daemon restart", at: progress)
                await daemon.stop()
                #expect(daemon.lifetimes.last?.status == 0, "the drain's exit: \(diagnostics())")
                try await daemon.start(bootstrap: bootstrap)
                try await daemon.waitUntilReady()

                // (c) The network resets the connection, twice, some seconds apart.
                for _ in 0..<2 {
                    guard let next = try await progressed(600, since: progress, atLeast: 2) else { break faultSequence }
                    progress = next
                    fault("connection reset", at: progress)
                    resets.append(try await proxy.reset())
                }
            }

            let (status, final) = try await load.finish(seconds: 45)
            await daemon.stop()
            await proxy.stop()
            let seconds = ContinuousClock.now - started

            // Everything the runner sent, read back with an independent consumer.
            let reader = try TopicReader(bootstrapServers: bootstrap)
            let inKafka = Int(try reader.recordCount(of: topic))
            let records = try reader.readRecords(of: topic, count: inKafka, timeoutSeconds: 30)
            let decoded = try records.map { try JSONDecoder().decode(Record.self, from: Data($0.value)) }
            let texts = decoded.map(\.text)
            let distinct = Set(texts)
            let sent = Set((0..<count).map { "\(prefix)-\($0)" })
            let missing = sent.subtracting(distinct)
            let strangers = decoded.filter { !sent.contains($0.text) || $0.sender != prefix || $0.tag != "fault" }

            // A consumer that deduplicates by the header keeps the first record of each id.
            var textsById: [String: Set<String>] = [:]
            var kept: [String] = []
            var withoutHeader = 0
            for (record, value) in zip(records, decoded) {
                guard let id = record.header(Self.idHeader).map({ String(decoding: $0, as: UTF8.self) }) else {
                    withoutHeader += 1
                    continue
                }
                if textsById[id] == nil { kept.append(value.text) }
                textsById[id, default: []].insert(value.text)
            }
            let keptDistinct = Set(kept)

            let lifetimes = daemon.lifetimes
            let accepted = lifetimes.map(\.accepted).reduce(0, +)
            let closes = (final.closes ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" }
            print(
                "CLIENT-FAULTS \(runner.name): sent=\(final.sent) inKafka=\(inKafka) "
                    + "duplicatesBeforeDedup=\(records.count - distinct.count) afterDedup=\(kept.count) "
                    + "duplicatesAfterDedup=\(kept.count - keptDistinct.count) missing=\(missing.count) "
                    + "resent=\(final.resent) connections=\(final.connections) nacks=\(final.nacks) "
                    + "closes=\(closes.joined(separator: ",")) failed=\(final.failed) resets=\(resets) "
                    + "accepted=\(accepted) runnerSeconds=\(final.seconds ?? -1) seconds=\(seconds)\n  "
                    + faults.joined(separator: "\n  ")
            )
            #expect(status == 0, "the runner's exit: \(diagnostics())")
            #expect(final.sent == count && final.acked == count && final.failed == 0 && final.inFlight == 0)
            #expect(final.errors == [:], "\(diagnostics())")
            #expect(missing.isEmpty, "missing in Kafka: \(missing.sorted().prefix(20)) \(diagnostics())")
            #expect(strangers.isEmpty, "records nobody sent: \(strangers.prefix(5).map(\.text))")
            #expect(records.count == inKafka)
            // Deduplicated by the header: every id names one message, and each message is there exactly once.
            #expect(withoutHeader == 0, "records without the \(Self.idHeader) header")
            let mixed = textsById.filter { $0.value.count > 1 }
            #expect(mixed.isEmpty, "ids whose records differ: \(mixed.prefix(3))")
            #expect(textsById.count == count, "distinct ids")
            #expect(kept.count == count && keptDistinct == sent, "the deduplicated stream is each message once")
            // The runner lived through the faults: it reconnected and resent what was in doubt.
            #expect(final.connections > 1)
            #expect(final.resent > 0)
            #expect(resets.count == 2 && resets.allSatisfy { $0 >= 1 }, "a reset found no connection to cut: \(resets)")
            #expect(lifetimes.count == 2)
            for lifetime in lifetimes {
                #expect(lifetime.status == 0)
                #expect(lifetime.failed == 0)
            }
            // What the daemons accepted is what Kafka holds: every duplicate is a client's resend.
            #expect(accepted == inKafka)
            #expect(seconds < .seconds(90))
        }
    }
}

import Foundation
import Kafka
import Testing

extension IntegrationTests {
    /// Several daemons behind the shipped nginx site, restarted one after the other while clients send:
    /// the procedure of docs/operations.md ("Rolling restart"), end to end.
    @Suite("several daemons behind nginx: rolling restart")
    struct RollingRestart {
        struct Record: Decodable {
            var sender: String
            var text: String
            var tag: String
        }

        @Test(
            "two daemons, restarted one after the other under load: nothing lost, no handshake refused at the proxy",
            .enabled(
                if: NginxProxy.binary != nil,
                "nginx is not installed: run scripts/install-deps (Debian package nginx)"
            )
        )
        func rollingRestart() async throws {
            // First, and outside the timing: it may have to install the test tooling's venv (a minute).
            let python = try await ResendClients.python()
            let started = ContinuousClock.now
            let clients = 4
            let chat = uniqueChat("rolling")
            let topic = "kafka.chat.\(chat)"
            let broker = try MockCluster(brokers: 1)
            try broker.createTopic(topic, partitions: 3)
            let bootstrap = broker.bootstrapServers

            let a = try await RestartableDaemon(name: "A", bootstrap: bootstrap)
            let b = try await RestartableDaemon(name: "B", bootstrap: bootstrap)
            try await a.waitUntilReady()
            try await b.waitUntilReady()
            let proxy = try await NginxProxy.start(upstreamPorts: [a.port, b.port])
            defer { proxy.stop() }

            let load = try ResendClients(
                python: python,
                url: "wss://127.0.0.1:\(proxy.port)/send-message/chat/\(chat)?ack=1",
                cafile: proxy.certificate,
                clients: clients,
                rate: 250
            )
            func diagnostics() -> String {
                "clients:\n\(load.log.suffix(3000))\nnginx:\n\(proxy.errorLog.suffix(3000))\n"
                    + "A:\n\(a.process.log.suffix(1500))\nB:\n\(b.process.log.suffix(1500))"
            }

            let warm = await load.waitFor(seconds: 20) { $0.open == clients && $0.acked >= 1000 }
            try #require(warm != nil, "the clients never got going: \(diagnostics())")
            // least_conn spreads the four connections over both daemons, so each restart closes some.
            let before = (a: await a.connections(), b: await b.connections())
            #expect(before.a >= 1 && before.b >= 1, "A has \(before.a), B has \(before.b)")

            var restarts: [String] = []
            for instance in [a, b] {
                let progress = try #require(load.progress)
                let restartStarted = ContinuousClock.now
                await instance.stop()
                let stopped = ContinuousClock.now
                let exit = try #require(instance.lifetimes.last)
                #expect(exit.status == 0, "\(instance.name) exit: \(diagnostics())")
                try await instance.start(bootstrap: bootstrap)
                let listening = ContinuousClock.now
                try await instance.waitUntilReady()
                let ready = ContinuousClock.now

                // The drained clients reconnected through the proxy (to the other daemon) and carry on.
                let after = await load.waitFor(seconds: 20) {
                    $0.goingAwayCloses > progress.goingAwayCloses && $0.open == clients
                        && $0.acked >= progress.acked + 1000
                }
                let carriedOn = try #require(after, "the clients did not carry on: \(diagnostics())")
                restarts.append(
                    "\(instance.name): drained and exited \(exit.status.map(String.init) ?? "none") in "
                        + "\(stopped - restartStarted) (accepted \(exit.accepted)), listening again after "
                        + "\(listening - stopped), ready after \(ready - listening); "
                        + "\(carriedOn.goingAwayCloses - progress.goingAwayCloses) clients closed with 1001"
                )
            }

            let summary = try await load.stop()
            await a.stop()
            await b.stop()
            let seconds = ContinuousClock.now - started

            // Every message any client ever sent, read back with an independent consumer.
            let reader = try TopicReader(bootstrapServers: bootstrap)
            let inKafka = try reader.recordCount(of: topic)
            let records = try reader.readRecords(of: topic, count: Int(inKafka), timeoutSeconds: 30)
            let texts = try records.map { try JSONDecoder().decode(Record.self, from: Data($0.value)).text }
            let distinct = Set(texts)
            let perClient = try #require(summary.perClient)
            let sent = Set(perClient.enumerated().flatMap { client, count in (0..<count).map { "c\(client)-\($0)" } })
            let missing = sent.subtracting(distinct)
            let lifetimes = a.lifetimes + b.lifetimes
            let accepted = lifetimes.map(\.accepted).reduce(0, +)

            print(
                "ROLLING-RESTART: clients=\(clients) sent=\(sent.count) inKafka=\(inKafka) distinct=\(distinct.count) "
                    + "duplicates=\(texts.count - distinct.count) missing=\(missing.count) resent=\(summary.resent) "
                    + "connects=\(summary.connects) closes=\(summary.closes) handshakeFailures=\(summary.handshakeFailures) "
                    + "connectErrors=\(summary.connectErrors) nacks=\(summary.nacks) duplicateAcks=\(summary.duplicateAcks) "
                    + "accepted=\(accepted) "
                    + "seconds=\(seconds)\n  " + restarts.joined(separator: "\n  ")
            )
            #expect(summary.unacked == [], "\(diagnostics())")
            #expect(summary.pending == 0)
            #expect(sent.count == summary.generated)
            #expect(missing.isEmpty, "missing in Kafka: \(missing.sorted().prefix(20)) \(diagnostics())")
            #expect(distinct.isSubset(of: sent), "records nobody sent: \(distinct.subtracting(sent).prefix(5))")
            #expect(records.count == Int(inKafka))
            #expect(summary.failedHandshakes == 0, "\(diagnostics())")
            // What a client sent while its daemon drained was never read, so never acked: only the resend
            // after the reconnect put it in Kafka.
            #expect(summary.resent > 0)
            #expect(summary.errors.isEmpty)
            // Two drains, each closing the clients of one daemon with 1001; then the clients' own 1000s.
            #expect(summary.goingAwayCloses >= 2)
            #expect(summary.closes.keys.allSatisfy { ["1000", "1001"].contains($0) }, "\(diagnostics())")
            #expect(lifetimes.count == 4)
            for lifetime in lifetimes {
                #expect(lifetime.status == 0)
                #expect(lifetime.failed == 0)
                #expect(lifetime.delivered == lifetime.accepted)
            }
            // What the daemons accepted is what Kafka holds: every duplicate is a client's resend, none a retry.
            #expect(accepted == Int(inKafka))
            #expect(seconds < .seconds(60))
        }
    }
}

import ArgumentParser
import CLinux
import Daemon
import Foundation
import Logging
import Metrics
import Monitoring
import Prometheus

#if canImport(Glibc)
import Glibc
#endif

/// Command line of the daemon: where the configuration comes from, and a few common settings as flags.
@main
struct KafkaChatProducerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kafka-chat-producer",
        abstract: "Accepts chat messages over WebSocket and publishes them to Kafka without losing one.",
        discussion: """
            Endpoints: ws://HOST:PORT/send-message/chat/{chat} → topic kafka.chat.{chat},
            ws://HOST:PORT/send-message/global → kafka.chat.global, GET /health, /ready, /metrics.

            Settings come from defaults, then --config FILE, then KCP_* environment variables, then
            --set KEY=VALUE and the flags below. `--list-keys` shows every key with its default.

            SIGHUP (systemctl reload) re-reads the file and the token and key files and applies what can
            change live; SIGTERM drains: every accepted message is delivered or reported before exit.
            """,
        version: BuildInfo.version
    )

    @Option(name: .long, help: ArgumentHelp("Configuration file (`key = value` lines).", valueName: "file"))
    var config: String?

    @Flag(
        name: .long,
        help: "Publish to an in-memory mock Kafka cluster started in this process (trials only; messages are not kept)."
    )
    var embeddedBroker = false

    @Option(
        name: .long,
        help: ArgumentHelp("Kafka brokers, host:port[,host:port…] (kafka.bootstrap_servers).", valueName: "servers")
    )
    var bootstrapServers: String?

    @Option(name: .long, help: ArgumentHelp("Listen address (listen.host).", valueName: "address"))
    var host: String?

    @Option(name: .long, help: ArgumentHelp("Listen port, 0 for any (listen.port).", valueName: "port"))
    var port: String?

    @Option(
        name: .customLong("set"),
        help: ArgumentHelp(
            "Set any key, e.g. --set kafka.linger_ms=10 or --set librdkafka.security.protocol=SSL. Repeatable.",
            valueName: "key=value"
        )
    )
    var settings: [String] = []

    @Flag(name: .long, help: "List every configuration key with its default and environment variable, then exit.")
    var listKeys = false

    @Flag(name: .long, help: "Print the effective configuration as a config file, then exit.")
    var printConfig = false

    /// Receive buffers and partial-frame buffers of 64–256 KiB are allocated and freed all the time
    /// under load. With glibc's defaults those sizes go to mmap or get trimmed back to the kernel, and
    /// every reuse pays page faults and page clearing (7.7 % of CPU samples in a perf profile at full load).
    /// Keeping them in the heap makes the memory reusable without faults; measured: +10–20 % msgs/s,
    /// +~15 MiB peak RSS (50 connections, global topic).
    static func tuneMalloc() {
        _ = mallopt(M_MMAP_THRESHOLD, 8 << 20)
        _ = mallopt(M_TRIM_THRESHOLD, 64 << 20)
    }

    func run() async throws {
        if self.listKeys {
            let defaults = DaemonConfiguration()
            for key in ConfigurationKeys.all {
                let reload = ConfigurationKeys.appliesOnReload(key.name) ? "applied live" : "needs a restart"
                print(
                    "\(key.name) = \(key.value(in: defaults))\n    \(key.summary)\n    environment: \(key.environmentName)\n    on reload (SIGHUP): \(reload)"
                )
            }
            print(
                "librdkafka.<property> = <value>\n    Any librdkafka property, passed through verbatim.\n    environment: KCP_LIBRDKAFKA_<PROPERTY> (dots as _, a literal _ as __)\n    on reload (SIGHUP): needs a restart"
            )
            return
        }

        var overrides: [(key: String, value: String)] = []
        if self.embeddedBroker { overrides.append(("embedded_broker", "true")) }
        if let bootstrapServers { overrides.append(("kafka.bootstrap_servers", bootstrapServers)) }
        if let host { overrides.append(("listen.host", host)) }
        if let port { overrides.append(("listen.port", port)) }
        for setting in self.settings {
            guard let equals = setting.firstIndex(of: "=") else {
                throw ValidationError("--set \(setting): expected KEY=VALUE")
            }
            overrides.append((String(setting[..<equals]), String(setting[setting.index(after: equals)...])))
        }

        let environment = ProcessInfo.processInfo.environment
        // Under systemd with StandardError=journal, lines carry their syslog priority for `journalctl -p`.
        let journald = JournalStream.isConnected(fileDescriptor: STDERR_FILENO, environment: environment)
        let source = ConfigurationSource(file: self.config, environment: environment, overrides: overrides)
        let configuration: DaemonConfiguration
        do {
            configuration = try source.load()
        } catch {
            let priority = journald ? "<\(JournaldLogHandler.priority(of: .error))>" : ""
            FileHandle.standardError.write(Data("\(priority)kafka-chat-producer: configuration error: \(error)\n".utf8))
            throw ExitCode(78)  // EX_CONFIG
        }
        if self.printConfig {
            print(ConfigurationLoader.render(configuration), terminator: "")
            return
        }

        Self.tuneMalloc()
        // One level for every logger, which a reload's log.level changes.
        let level = LogLevelSwitch(configuration.logLevel)
        LoggingSystem.bootstrap { label in
            if journald {
                return SwitchedLevelLogHandler(JournaldLogHandler(label: label), levelSwitch: level)
            }
            return SwitchedLevelLogHandler(StreamLogHandler.standardError(label: label), levelSwitch: level)
        }
        let logger = Logger(label: "kafka-chat-producer")
        let daemon: Daemon
        do {
            daemon = try Daemon(configuration: configuration, logger: logger, source: source, logLevel: level)
        } catch {
            logger.critical("cannot start: \(error)")
            throw ExitCode(1)
        }
        // Metrics that libraries report through swift-metrics land in the same /metrics scrape.
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: daemon.metrics.registry))
        try await daemon.run()
    }
}

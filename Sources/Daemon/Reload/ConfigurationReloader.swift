import Foundation
import Gateway
import Ingest
import Logging
import Monitoring

/// Applies a reloaded configuration (SIGHUP, `systemctl reload`) without reopening the listener or the
/// producer: the configuration file and the token and key files are read again and checked whole — one
/// bad value and nothing changes — then the live keys go into force (handshake checks, limits, chat
/// policy, topic cap, readiness high-water mark, log level) and open connections are checked again (see
/// `GatewayServer.apply`). Keys only a restart applies are logged and left as they are.
///
/// An actor, so reloads run one at a time in the order the signals came.
actor ConfigurationReloader {
    /// What one reload did.
    enum Outcome: Equatable {
        case applied(live: [String], needRestart: [String], closedConnections: Int)
        case refused(String)
    }

    private var running: DaemonConfiguration
    private let source: ConfigurationSource?
    private let gateway: GatewayServer
    private let rings: RingRegistry
    private let metrics: DaemonMetrics
    private let logLevel: LogLevelSwitch?
    private let notifier: SystemdNotifier
    private let status: SystemdStatus
    private let logger: Logger

    /// - Parameter source: nil when the configuration was built in code: a reload then reads the token and
    ///   key files again and changes nothing else.
    init(
        running: DaemonConfiguration,
        source: ConfigurationSource?,
        gateway: GatewayServer,
        rings: RingRegistry,
        metrics: DaemonMetrics,
        logLevel: LogLevelSwitch?,
        notifier: SystemdNotifier,
        status: SystemdStatus,
        logger: Logger
    ) {
        self.running = running
        self.source = source
        self.gateway = gateway
        self.rings = rings
        self.metrics = metrics
        self.logLevel = logLevel
        self.notifier = notifier
        self.status = status
        self.logger = logger
    }

    func reload() async -> Outcome {
        // Before READY=1, a READY=1 here would tell systemd the start finished: keep quiet then.
        let announce = self.status.isReadyAnnounced
        if announce { self.notifier.reloading() }
        self.logger.notice("reloading configuration", metadata: ["file": "\(self.source?.file ?? "(none)")"])
        let outcome: Outcome
        do {
            outcome = try await self.apply()
        } catch {
            outcome = .refused("\(error)")
        }
        switch outcome {
        case .applied(let live, let needRestart, let closed):
            self.metrics.reloads.reloadApplied(restartPending: !needRestart.isEmpty)
            self.logger.notice(
                "configuration reloaded",
                metadata: [
                    "changed":
                        "\(live.isEmpty ? "(no key; token and key files read again)" : live.joined(separator: ","))",
                    "closedConnections": "\(closed)",
                ]
            )
            if !needRestart.isEmpty {
                self.logger.warning(
                    "configuration reloaded, but these keys take effect only after a restart",
                    metadata: ["keys": "\(needRestart.joined(separator: ","))"]
                )
            }
            self.status.note = needRestart.isEmpty ? nil : "restart needed for \(needRestart.joined(separator: ", "))"
            if announce { self.notifier.reloaded(status: self.status.note.map { "reloaded; \($0)" } ?? "reloaded") }
        case .refused(let reason):
            self.metrics.reloads.reloadRefused()
            self.logger.error(
                "configuration reload refused: the configuration in force is unchanged",
                metadata: ["error": "\(reason)"]
            )
            self.status.note = "last reload refused: \(reason)"
            if announce { self.notifier.reloaded(status: "reload refused, old configuration in force: \(reason)") }
        }
        return outcome
    }

    private func apply() async throws -> Outcome {
        let reloaded = try self.source?.load() ?? self.running
        // Read again even when their paths did not change: rotating a token means rewriting the file.
        let access = try AccessSettingsLoader.load(reloaded)
        let difference = ConfigurationKeys.difference(running: self.running, reloaded: reloaded)
        let effective = difference.effective
        var gateway = effective.gateway
        gateway.access = access
        // Throws before changing anything when a key cannot be turned into a verifier.
        let effect = try await self.gateway.apply(gateway)
        self.rings.setMaxTopics(effective.maxTopics)
        self.metrics.setReadinessHighWater(Double(effective.readinessHighWaterPercent) / 100)
        self.logLevel?.level = effective.logLevel
        self.running = effective
        return .applied(live: difference.live, needRestart: difference.needRestart, closedConnections: effect.closed)
    }
}

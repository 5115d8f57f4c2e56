import ServiceLifecycle
import UnixSignals

/// Reloads the configuration on SIGHUP — what `systemctl reload` (the unit's `ExecReload=`, or systemd
/// ≥ 253's `Type=notify-reload`), logrotate habits and configuration-management tools send — instead of
/// the default action, which ends the process.
struct ReloadService: Service {
    let reloader: ConfigurationReloader

    func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        await cancelWhenGracefulShutdown {
            for await _ in signals {
                _ = await self.reloader.reload()
            }
        }
    }
}

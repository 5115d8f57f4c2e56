/// Which keys a reload applies and which wait for a restart.
extension ConfigurationKeys {
    /// Keys whose value is built into a socket, a thread or the Kafka client at start-up: the listener
    /// (`listen.*`), the rings (`buffer.*`), librdkafka (`kafka.*`, `librdkafka.*`), the broker probe's
    /// interval, the drain timing, the embedded broker and the test hooks. A reload that changes one
    /// logs it as needing a restart and applies the rest.
    static let restartPrefixes = [
        "listen.", "buffer.", "kafka.", librdkafkaPrefix, "ready.broker_check_seconds", "shutdown.", "embedded_broker",
        "testing.",
    ]

    /// True when a reload applies `name` live.
    public static func appliesOnReload(_ name: String) -> Bool {
        !self.restartPrefixes.contains { name.hasPrefix($0) }
    }

    /// What a reloaded configuration changes against the one in force.
    struct ReloadDifference {
        /// Changed keys a reload applies.
        var live: [String] = []
        /// Changed keys only a restart applies.
        var needRestart: [String] = []
        /// The configuration to put in force: `running` with the new values of the live keys.
        var effective: DaemonConfiguration
    }

    /// Compares by each key's rendered value (what `--print-config` shows), so every key is covered by the
    /// table it is defined in, and copies the live ones over by the same text.
    static func difference(
        running: DaemonConfiguration,
        reloaded: DaemonConfiguration
    ) -> ReloadDifference {
        var difference = ReloadDifference(effective: running)
        for key in self.all {
            let new = key.value(in: reloaded)
            guard new != key.value(in: running) else { continue }
            if self.appliesOnReload(key.name) {
                difference.live.append(key.name)
                // A rendered value always parses again: it was parsed to get there.
                try? key.apply(&difference.effective, new)
            } else {
                difference.needRestart.append(key.name)
            }
        }
        let names = Set(running.librdkafka.map(\.0)).union(reloaded.librdkafka.map(\.0)).sorted()
        for name in names
        where running.librdkafka.first(where: { $0.0 == name })?.1
            != reloaded.librdkafka.first(where: { $0.0 == name })?.1
        {
            difference.needRestart.append(librdkafkaPrefix + name)
        }
        return difference
    }
}

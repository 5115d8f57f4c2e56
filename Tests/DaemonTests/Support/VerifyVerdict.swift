/// What `systemd-analyze verify` said, split into findings about our units and tolerated noise.
struct VerifyVerdict {
    var status: Int32
    /// Lines that name one of our units or unit files: each is a finding about them.
    var problems: [String] = []
    /// Everything else. The only other units loaded are the host's targets and slices copied into the
    /// root for `--root` (the default dependencies sysinit.target, basic.target, shutdown.target,
    /// sockets.target, system.slice…): they belong to the systemd on this machine, may use keys another
    /// systemd version warns about, and are not ours to fix. A line about them never names our units,
    /// while a broken dependency of ours does ("kafka-chat-producer.service: Failed to create …/start:
    /// Unit … not found") and so counts as a problem.
    var noise: [String] = []

    /// - Parameter names: unit names and unit file paths that make a line ours.
    init(_ run: ToolRun, about names: [String]) {
        self.status = run.status
        for line in run.lines {
            if names.contains(where: { line.contains($0) }) {
                self.problems.append(line)
            } else {
                self.noise.append(line)
            }
        }
    }
}

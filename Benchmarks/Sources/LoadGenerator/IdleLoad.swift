import Dispatch
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// `--idle-connections N`: N upgraded WebSocket connections that send nothing, held open until stdin
/// closes or SIGTERM/SIGINT arrives, so the caller can read the daemon's resident memory per idle
/// connection. "idle connections open" is printed once all of them are up.
struct IdleLoad {
    let plan: LoadPlan
    let count: Int

    func run() throws -> LoadReport {
        try Self.checkDescriptorLimit(needed: self.count)
        let plan = self.plan
        let counters = LoadCounters()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        defer { try? group.syncShutdownGracefully() }
        let contexts = LoopContext.make(group: group, plan: plan, counters: counters)

        let cpuAtStart = ProcessCPU.seconds()
        let start = MonotonicClock.now()
        let opened = ConnectionOpener.open(
            count: self.count,
            wave: 500,
            plan: plan,
            contexts: contexts,
            counters: counters
        )
        let openedAt = MonotonicClock.now()
        let established = counters.established.load(ordering: .relaxed)
        guard established > 0 else {
            throw LoadGeneratorError.setup("no connection could be opened: \(opened.firstError ?? "unknown error")")
        }
        if opened.failures > 0 {
            Diagnostics.warn("\(opened.failures) of \(self.count) connections failed: \(opened.firstError ?? "")")
        }
        Diagnostics.warn(
            "\(established) idle connections up in \(ProgressLine.fixed(MonotonicClock.seconds(from: start, to: openedAt), 2)) s; "
                + "holding them until stdin closes or SIGTERM"
        )
        // The line the caller waits for; stdout unless stdout is reserved for --json.
        let line = "idle connections open\n"
        Diagnostics.write(line, to: plan.json ? STDERR_FILENO : STDOUT_FILENO)

        Self.waitForStdinEOFOrSignal()

        let closing = MonotonicClock.now()
        for context in contexts { context.loop.execute { context.closeAll() } }
        let closeDeadline = closing + 10_000_000_000
        while counters.open.load(ordering: .relaxed) > 0, MonotonicClock.now() < closeDeadline { usleep(1000) }
        for context in contexts { try? context.loop.submit { context.forceCloseAll() }.wait() }
        var closeCodes: [UInt16: Int] = [:]
        for context in contexts {
            closeCodes.merge(try context.loop.submit { context.closeCodes }.wait(), uniquingKeysWith: +)
        }
        let end = MonotonicClock.now()
        return LoadReport(
            mode: .idle,
            connections: self.count,
            chats: 0,
            messageBytes: 0,
            sent: 0,
            acked: 0,
            nacked: 0,
            delivered: nil,
            durationSeconds: MonotonicClock.seconds(from: start, to: end),
            sendSeconds: 0,
            latency: nil,
            closeCodes: closeCodes,
            cpuSeconds: ProcessCPU.seconds() - cpuAtStart,
            errors: opened.failures + counters.errors.load(ordering: .relaxed),
            notes: [
                "established=\(established) (opened in \(ProgressLine.fixed(MonotonicClock.seconds(from: start, to: openedAt), 2)) s)"
            ]
        )
    }

    /// Each connection is one descriptor; the caller raises the limit (`ulimit -n`), we only check it.
    static func checkDescriptorLimit(needed: Int) throws {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return }
        let required = UInt64(needed + 64)
        guard UInt64(limit.rlim_cur) >= required else {
            throw LoadGeneratorError.setup(
                "--idle-connections \(needed) needs about \(required) file descriptors but the limit is \(limit.rlim_cur); "
                    + "raise it first (ulimit -n \(max(required, 65536)))"
            )
        }
    }

    private static func waitForStdinEOFOrSignal() {
        let done = DispatchSemaphore(value: 0)
        var sources: [any DispatchSourceSignal] = []
        for signalNumber in [SIGTERM, SIGINT] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler { done.signal() }
            source.resume()
            sources.append(source)
        }
        let reader = DispatchQueue(label: "load-generator.stdin")
        reader.async {
            var chunk = [UInt8](repeating: 0, count: 4096)
            while chunk.withUnsafeMutableBytes({ read(STDIN_FILENO, $0.baseAddress, $0.count) }) > 0 {}
            done.signal()
        }
        done.wait()
        for source in sources { source.cancel() }
    }
}

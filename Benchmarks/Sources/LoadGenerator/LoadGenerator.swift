import ArgumentParser

#if canImport(Glibc)
import Glibc
#endif

/// Drives kafka-chat-producer with WebSocket connections on loopback (or librdkafka directly, `--raw`,
/// for the ceiling) and reports what was sent, what the daemon acked and what really reached Kafka.
@main
struct LoadGenerator: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load-generator",
        abstract: "Load for kafka-chat-producer over WebSocket (or straight into librdkafka with --raw).",
        discussion: """
            Messages are {"sender":"bench-<conn>","text":"<seq> xxx…","tag":"bench"}, all of the same size. \
            With --bootstrap-servers the generator counts what reached Kafka from the topics' watermarks (before \
            and after) and waits after the last send until delivered ≥ sent or --drain-timeout. Every address \
            must be on loopback. Exit status: 0 clean, 1 messages lost or a connection failed, 2 the run could \
            not be carried out.
            """
    )

    @Option(help: "Daemon WebSocket URL, loopback only (ws://127.0.0.1:PORT).")
    var url = "ws://127.0.0.1:8000"

    @Option(help: "WebSocket connections (in --raw: virtual senders the messages are spread over).")
    var connections = 50

    @Option(help: "0: every connection sends to /send-message/global; N: connection i sends to chat room-(i % N).")
    var chats = 0

    @Option(help: "Messages in total, over all connections (default 100000 unless --duration).")
    var messages: Int?

    @Option(help: "Send for this many seconds instead of a message count.")
    var duration: Double?

    @Option(help: "Open-loop rate limit in messages per second over all connections (0 = as fast as possible).")
    var rate: Double = 0

    @Option(help: "Approximate JSON message size in bytes (all messages get the same size).")
    var size = 100

    @Option(help: "Frames coalesced into one write+flush (at a rate: the most released per connection and tick).")
    var framesPerWrite = 64

    @Flag(help: "Connect with ?ack=1 and measure send→ack latency (--raw always measures send→delivery report).")
    var acks = false

    @Flag(
        name: .customLong("message-ids"),
        help:
            "Give every message an \"id\" (the same one: to measure the daemon with kafka.message_id_header); not with --acks."
    )
    var messageIDs = false

    @Option(help: "Kafka bootstrap servers (loopback), to count delivered records; --raw produces to it.")
    var bootstrapServers: String?

    @Option(help: "Seconds to wait after the last send for delivery (and acks).")
    var drainTimeout: Double = 60

    @Flag(help: "Print one JSON object on stdout at the end, and nothing else on stdout.")
    var json = false

    @Option(
        help:
            "Also report the CPU time process PID (e.g. the daemon) used from the first send to the end of the measurement, from /proc (targetCpuSeconds in --json)."
    )
    var cpuOf: Int32?

    @Option(
        help:
            "Open N idle connections to /send-message/global, print \"idle connections open\", hold them until stdin closes or SIGTERM (needs ulimit -n)."
    )
    var idleConnections: Int?

    @Flag(
        help:
            "No WebSocket: produce the same records straight into librdkafka from one thread, with the daemon's settings (an in-process mock cluster when no --bootstrap-servers)."
    )
    var raw = false

    func validate() throws {
        guard self.connections >= 1 else { throw ValidationError("--connections must be at least 1") }
        guard self.chats >= 0 else { throw ValidationError("--chats must be 0 or more") }
        guard self.messages == nil || self.duration == nil else {
            throw ValidationError("give --messages or --duration, not both")
        }
        if let messages = self.messages, messages < 1 { throw ValidationError("--messages must be at least 1") }
        if let duration = self.duration, !(duration > 0) { throw ValidationError("--duration must be positive") }
        guard self.rate >= 0, self.rate.isFinite else { throw ValidationError("--rate must be 0 or positive") }
        guard (1...(1 << 24)).contains(self.size) else { throw ValidationError("--size must be 1…16777216") }
        guard (1...65_536).contains(self.framesPerWrite) else {
            throw ValidationError("--frames-per-write must be 1…65536")
        }
        guard self.drainTimeout >= 0 else { throw ValidationError("--drain-timeout must be 0 or more") }
        if let pid = self.cpuOf {
            guard ProcessCPU.seconds(pid: pid) != nil else { throw ValidationError("--cpu-of \(pid): no such process") }
        }
        guard !(self.messageIDs && (self.acks || self.raw)) else {
            throw ValidationError("--message-ids goes with neither --acks (acks would echo one id) nor --raw")
        }
        if let idle = self.idleConnections {
            guard idle >= 1 else { throw ValidationError("--idle-connections must be at least 1") }
            guard !self.raw else { throw ValidationError("--idle-connections and --raw exclude each other") }
        }
    }

    func run() throws {
        signal(SIGPIPE, SIG_IGN)
        let plan: LoadPlan
        do {
            plan = try self.makePlan()
        } catch {
            throw ValidationError("\(error)")
        }
        let report: LoadReport
        do {
            switch plan.mode {
            case .daemon: report = try DaemonLoad(plan: plan).run()
            case .raw: report = try RawLoad(plan: plan).run()
            case .idle: report = try IdleLoad(plan: plan, count: self.idleConnections!).run()
            }
        } catch {
            Diagnostics.warn("\(error)")
            throw ExitCode(2)
        }
        print(plan.json ? report.json : report.human)
        if let lost = report.lost, lost > 0 { throw ExitCode(1) }
        if report.errors > 0 { throw ExitCode(1) }
    }

    private func makePlan() throws(LoadGeneratorError) -> LoadPlan {
        let mode: LoadPlan.Mode = self.idleConnections != nil ? .idle : (self.raw ? .raw : .daemon)
        let target = mode == .raw ? nil : try LoopbackEndpoint.parseWebSocketURL(self.url)
        if let servers = self.bootstrapServers { _ = try LoopbackEndpoint.parseBootstrapServers(servers) }
        return LoadPlan(
            mode: mode,
            target: target,
            connections: self.connections,
            chats: mode == .idle ? 0 : self.chats,
            messages: self.duration == nil ? (self.messages ?? 100_000) : nil,
            durationSeconds: self.duration,
            rate: self.rate,
            size: self.size,
            framesPerWrite: self.framesPerWrite,
            acks: mode == .idle ? false : self.acks,
            bootstrapServers: self.bootstrapServers,
            drainTimeoutSeconds: self.drainTimeout,
            json: self.json,
            cpuOf: self.cpuOf,
            messageIDs: self.messageIDs
        )
    }
}

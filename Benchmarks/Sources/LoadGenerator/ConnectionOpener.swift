import NIOCore
import NIOPosix

/// Opens WebSocket connections with NIOPosix's ClientBootstrap, spread round-robin over the event loops,
/// in waves so that thousands of connects do not overflow the daemon's accept backlog at once.
enum ConnectionOpener {
    struct Outcome {
        var failures = 0
        var firstError: String?
    }

    static func open(count: Int, wave: Int, plan: LoadPlan, contexts: [LoopContext], counters: LoadCounters) -> Outcome
    {
        var outcome = Outcome()
        var next = 0
        while next < count {
            let upper = min(count, next + wave)
            let futures = (next..<upper).map { index in
                Self.connect(index: index, plan: plan, owner: contexts[index % contexts.count], counters: counters)
            }
            for future in futures {
                do {
                    try future.wait()
                } catch {
                    outcome.failures += 1
                    if outcome.firstError == nil { outcome.firstError = "\(error)" }
                }
            }
            next = upper
        }
        return outcome
    }

    /// Succeeds once the server answered the upgrade with 101.
    static func connect(index: Int, plan: LoadPlan, owner: LoopContext, counters: LoadCounters) -> EventLoopFuture<Void>
    {
        let ready = owner.loop.makePromise(of: Void.self)
        let address: SocketAddress
        do {
            address = try SocketAddress(ipAddress: plan.target!.host, port: plan.target!.port)
        } catch {
            ready.fail(error)
            return ready.futureResult
        }
        return ClientBootstrap(group: owner.loop)
            .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            // Enough to keep the socket busy between two turns of the loop, small enough to stay cheap.
            .channelOption(ChannelOptions.writeBufferWaterMark, value: .init(low: 128 * 1024, high: 512 * 1024))
            .connectTimeout(.seconds(10))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        LoadConnection(index: index, plan: plan, owner: owner, counters: counters, ready: ready)
                    )
                }
            }
            .connect(to: address)
            .flatMap { _ in ready.futureResult }
    }
}

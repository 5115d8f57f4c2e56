import ArgumentParser
import NIOCore
import NIOHTTP1
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// A WebSocket echo server for the Autobahn|Testsuite conformance run (`scripts/autobahn`).
///
/// It exists to put the daemon's own RFC 6455 layer (`WebSocketFrameReader`, `WebSocketFrameWriter`,
/// `UTF8Validator`) under the whole suite, including the echo-based sections the chat daemon cannot
/// answer (it publishes messages instead of echoing them). The HTTP handshake goes through
/// NIOWebSocket's upgrader exactly as in the daemon's `ChatWebSocketUpgrader`; frames never touch
/// NIOWebSocket's decoder. Prints `listening port=PORT` on the first line of stdout once bound.
@main
struct AutobahnEcho: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "autobahn-echo",
        abstract: "WebSocket echo server on the daemon's frame reader and writer, for Autobahn|Testsuite."
    )

    @Option(help: "Address to listen on (loopback only by default).") var host = "127.0.0.1"
    @Option(help: "Port to listen on; 0 picks a free one.") var port = 0
    @Option(help: "Largest message accepted (Autobahn section 9 sends 16 MiB); larger ones are closed with 1009.")
    var maxMessageBytes = 64 << 20
    @Option(help: "Most frames one message may span (section 9.3 sends 4 MiB in 64-byte fragments: 65536).")
    var maxFragments = 1 << 20

    func validate() throws {
        guard (1...Int(UInt32.max)).contains(self.maxMessageBytes) else {
            throw ValidationError("--max-message-bytes must be in 1...\(UInt32.max)")
        }
        guard self.maxFragments >= 1 else { throw ValidationError("--max-fragments must be at least 1") }
    }

    func run() throws {
        let limits = EchoLimits(maxMessageBytes: self.maxMessageBytes, maxFragments: self.maxFragments)
        // One event loop: the suite runs one case at a time, and the machine is shared.
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let channel = try ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try Self.configure(channel, limits: limits)
                }
            }
            .bind(host: self.host, port: self.port)
            .wait()
        // Unbuffered, so the script reading the pipe sees it at once.
        let line = Array("listening port=\(channel.localAddress?.port ?? 0)\n".utf8)
        _ = line.withUnsafeBytes { write(STDOUT_FILENO, $0.baseAddress, $0.count) }
        try channel.closeFuture.wait()
    }

    /// The daemon's pipeline shape: HTTP/1.1 server with one upgrader; the plain-HTTP responder leaves
    /// once the upgrade is done, so the echo handler sees raw bytes.
    private static func configure(_ channel: any Channel, limits: EchoLimits) throws {
        let responder = PlainHTTPResponder()
        let boundResponder = NIOLoopBound(responder, eventLoop: channel.eventLoop)
        let sync = channel.pipeline.syncOperations
        try sync.configureHTTPServerPipeline(
            withServerUpgrade: (
                upgraders: [EchoWebSocketUpgrader(limits: limits)],
                completionHandler: { context in
                    context.pipeline.syncOperations.removeHandler(boundResponder.value, promise: nil)
                }
            ),
            withErrorHandling: true
        )
        try sync.addHandler(responder)
    }
}

/// The frame reader's limits for every connection.
struct EchoLimits: Sendable {
    var maxMessageBytes: Int
    var maxFragments: Int
}

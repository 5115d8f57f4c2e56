import ArgumentParser
import Foundation
import Kafka

/// Drives a daemon with N WebSocket connections on loopback and counts what really reached Kafka
/// (topic watermarks before and after), so "sent" and "delivered" are measured, not assumed.
@main
struct LoadGenerator: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load-generator",
        abstract: "WebSocket load against kafka-chat-producer, counting what landed in Kafka."
    )

    @Option(help: "Daemon port on 127.0.0.1.") var port: Int
    @Option(help: "Kafka bootstrap servers, to count delivered records.") var bootstrapServers: String
    @Option(help: "Concurrent WebSocket connections.") var connections = 50
    @Option(help: "Messages per connection.") var messages = 20_000
    @Option(help: "Approximate size of each JSON message in bytes.") var size = 100
    @Option(help: "Frames written per send() call.") var framesPerWrite = 64
    @Option(help: "Chats: 0 sends to /send-message/global, N spreads connections over room-0…room-(N-1).") var chats = 0
    @Option(help: "Seconds to wait for delivery after the last send.") var drainTimeout = 60.0

    func run() throws {
        let topics = self.chats == 0 ? ["kafka.chat.global"] : (0..<self.chats).map { "kafka.chat.room-\($0)" }
        let reader = try TopicReader(bootstrapServers: self.bootstrapServers)
        let before = topics.map { (try? reader.recordCount(of: $0)) ?? 0 }.reduce(0, +)

        let total = self.connections * self.messages
        let clients = try (0..<self.connections).map { index in
            let path = self.chats == 0 ? "/send-message/global" : "/send-message/chat/room-\(index % self.chats)"
            return try LoadConnection(port: self.port, path: path)
        }
        let start = Date()
        let group = DispatchGroup()
        let failures = LockedCounter()
        for (index, client) in clients.enumerated() {
            let batch = LoadConnection.batch(connection: index, frames: self.framesPerWrite, size: self.size)
            let rounds = (self.messages + self.framesPerWrite - 1) / self.framesPerWrite
            let thread = Thread {
                defer { group.leave() }
                for _ in 0..<rounds where !client.send(batch) {
                    failures.increment()
                    return
                }
            }
            group.enter()
            thread.start()
        }
        group.wait()
        let sentSeconds = Date().timeIntervalSince(start)
        let sent = (self.messages + self.framesPerWrite - 1) / self.framesPerWrite * self.framesPerWrite * self.connections

        var delivered: Int64 = 0
        let deadline = Date().addingTimeInterval(self.drainTimeout)
        repeat {
            delivered = topics.map { (try? reader.recordCount(of: $0)) ?? 0 }.reduce(0, +) - before
            if delivered >= Int64(sent) { break }
            Thread.sleep(forTimeInterval: 0.02)
        } while Date() < deadline
        let deliveredSeconds = Date().timeIntervalSince(start)
        // Connections stay open until everything is counted: closing with unread bytes resets them.
        withExtendedLifetime(clients) {}
        _ = total
        print("connections=\(self.connections) chats=\(self.chats) size≈\(self.size)B framesPerWrite=\(self.framesPerWrite)")
        print("sent=\(sent) delivered=\(delivered) lost=\(Int64(sent) - delivered) connectionFailures=\(failures.value)")
        print(String(format: "send phase %.2f s (%.0f msgs/s written); all delivered after %.2f s", sentSeconds, Double(sent) / sentSeconds, deliveredSeconds))
        print(String(format: "delivered rate: %.0f msgs/s", Double(delivered) / deliveredSeconds))
        if delivered != Int64(sent) { throw ExitCode(1) }
    }
}

final class LockedCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func increment() { self.lock.lock(); self.count += 1; self.lock.unlock() }
    var value: Int { self.lock.lock(); defer { self.lock.unlock() }; return self.count }
}

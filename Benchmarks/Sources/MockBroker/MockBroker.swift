import ArgumentParser
import Foundation
import Kafka

/// Runs librdkafka's mock Kafka cluster on loopback until stdin closes or SIGTERM/SIGINT arrives,
/// printing its bootstrap address on the first line of stdout. The benchmark puts the broker in its own
/// process so that the daemon's CPU time and peak RSS are the daemon's alone.
@main
struct MockBroker: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mock-broker",
        abstract: "librdkafka's in-memory mock Kafka cluster on loopback, for benchmarks."
    )

    @Option(help: "Brokers in the cluster.") var brokers = 1
    @Option(help: "Partitions of each topic created up front.") var partitions = 4
    @Option(help: "Topics to create up front (others are created on first use).") var topic: [String] = []

    func run() throws {
        let cluster = try MockCluster(brokers: self.brokers)
        for name in self.topic { try cluster.createTopic(name, partitions: self.partitions) }
        FileHandle.standardOutput.write(Data((cluster.bootstrapServers + "\n").utf8))
        for signalNumber in [SIGTERM, SIGINT] { signal(signalNumber, SIG_IGN) }
        let stop = DispatchSemaphore(value: 0)
        var sources: [any DispatchSourceSignal] = []
        for signalNumber in [SIGTERM, SIGINT] {
            let source = DispatchSource.makeSignalSource(signal: signalNumber)
            source.setEventHandler { stop.signal() }
            source.resume()
            sources.append(source)
        }
        Thread.detachNewThread {
            while FileHandle.standardInput.availableData.count > 0 {}
            stop.signal()
        }
        stop.wait()
        withExtendedLifetime((cluster, sources)) {}
    }
}

import ChatContract
import Foundation
import Ingest
import Kafka
import Logging
import Testing

/// The producer thread naps between turns while records keep coming, so that event loops do not have to
/// ring it (an eventfd write there, a wake-up here) for nearly every record at a moderate rate.
/// librdkafka points at a port nobody listens on: records are queued in it, never delivered, which is all
/// that is needed to see them leave the ring.
@Suite("Producer thread: naps instead of a wake-up per record")
struct ProducerThreadNapTests {
    @Test("records a few hundred microseconds apart are taken without ringing for each")
    func napsSpareTheRings() async throws {
        let (napping, nappingProduced) = try await Self.wakeRequests(napMilliseconds: 1, spacingMicroseconds: 300)
        #expect(nappingProduced == Self.records)
        // The first record rings (the thread starts asleep); the rest arrive while it naps.
        #expect(napping <= 5, "\(napping) rings for \(Self.records) records")
    }

    @Test("without naps a record that finds the thread asleep rings it")
    func withoutNapsEachLateRecordRings() async throws {
        let (rings, produced) = try await Self.wakeRequests(napMilliseconds: 0, spacingMicroseconds: 2000)
        #expect(produced == Self.records)
        #expect(rings >= Self.records / 4, "\(rings) rings for \(Self.records) records")
    }

    static let records = 60

    /// Pushes `records` records `spacingMicroseconds` apart; returns the doorbell rings and the records
    /// handed to librdkafka.
    static func wakeRequests(napMilliseconds: Int32, spacingMicroseconds: UInt32) async throws -> (Int, Int) {
        let producer = try KafkaProducer(
            configuration: KafkaConfiguration([("bootstrap.servers", "127.0.0.1:1")]),
            logger: Logger(label: "nap-tests")
        )
        var configuration = ProducerThread.Configuration(
            keyPolicy: .none,
            ring: .init(ringCapacityBytes: 1 << 16, budgetBytes: 1 << 20, idleReclaimAfter: .seconds(60))
        )
        configuration.napMilliseconds = napMilliseconds
        let counters = IngestCounters()
        let thread = ProducerThread(
            producer: producer,
            configuration: configuration,
            counters: counters,
            logger: Logger(label: "nap-tests")
        )
        thread.start(receiver: nil)
        let buffer = try thread.attach(to: TopicName.global)
        let record = Array(#"{"sender":"a","text":"b","tag":"c"}"#.utf8)
        for sequence in 0..<Self.records {
            let ticket = MessageTicket(wantsAck: false, route: 0, slot: 0, generation: 0, sequence: UInt32(sequence))
            let result = buffer.push(payloadCount: record.count, ticket: ticket, tag: 0) { destination in
                destination.copyBytes(from: record)
            }
            #expect(result == .pushed)
            usleep(spacingMicroseconds)
        }
        // Give the last record time to be taken.
        for _ in 0..<200 where counters.snapshot().produced < Self.records {
            try await Task.sleep(for: .milliseconds(10))
        }
        let rings = thread.wakeRequests.load(ordering: .relaxed)
        let produced = counters.snapshot().produced
        thread.detach(buffer)
        await thread.stop()
        return (rings, produced)
    }
}

import Atomics
import ChatContract
import Kafka
import Logging
import NIOConcurrencyHelpers

/// The one thread that moves messages from topic rings into librdkafka and brings delivery reports back.
///
/// It sleeps on a single fd (`Doorbell`) that event loops ring when they give it work while it sleeps and
/// that librdkafka writes to when reports are waiting. While records keep coming it naps instead (at most
/// 1 ms, inside librdkafka's own linger), so that a moderate rate does not cost a ring and a wake-up per
/// message; after a run of empty naps it sleeps until rung again.
/// `RD_KAFKA_RESP_ERR__QUEUE_FULL` leaves the message in its ring and the thread waits for reports to
/// free librdkafka's queue: backpressure, never a drop.
public final class ProducerThread: ProducerScheduler, @unchecked Sendable {
    // @unchecked Sendable: shared state is atomics, `control` (a lock) and `let`s; `registry` is set once in
    // init; `receiver` is set by `start` before the thread runs; the remaining vars (`ackBatches`,
    // `failuresByError`) are touched only by the producer thread itself.
    public struct Configuration: Sendable {
        public var keyPolicy: RecordKeyPolicy
        public var ring: RingRegistry.Configuration
        /// Records taken from one ring before moving on to the next, so one busy chat cannot starve others.
        public var recordsPerTurn: Int = 4096
        /// While records keep coming, the thread naps this long between turns instead of asking to be woken
        /// by the next record: without it, a moderate rate (a message every few hundred microseconds) costs an
        /// eventfd write on the event loop and a thread wake-up here for nearly every message. 0 turns naps
        /// off. The daemon uses min(1 ms, linger.ms): librdkafka holds records that long anyway.
        public var napMilliseconds: Int32 = 0
        /// Empty naps in a row after which the thread sleeps until a record wakes it.
        public var napsBeforeSleep = 20
        /// `kafka.message_id_header`: records carry the message's id in a `MessageIDTrailer`, produced as
        /// this Kafka header. nil: records are the value alone.
        public var messageIDHeader: String?

        public init(keyPolicy: RecordKeyPolicy, ring: RingRegistry.Configuration) {
            self.keyPolicy = keyPolicy
            self.ring = ring
        }
    }

    /// What a drain achieved.
    public struct DrainSummary: Sendable, Equatable {
        /// True when everything was delivered or reported before the deadline.
        public var completedInTime: Bool
        /// Messages failed because the deadline passed (still in a ring, queued or in flight).
        public var failedAtDeadline: Int
    }

    private struct Control {
        var stopRequested = false
        var drainDeadline: ContinuousClock.Instant?
        var drainWaiter: CheckedContinuation<DrainSummary, Never>?
        var stopWaiter: CheckedContinuation<Void, Never>?
        var running = false
    }

    public let producer: KafkaProducer
    public let counters: IngestCounters
    /// Implicitly unwrapped only because the registry needs `self` (its scheduler) to be built: it is set
    /// in `init` and never nil afterwards.
    public private(set) var registry: RingRegistry!
    private let configuration: Configuration
    private let logger: Logger
    /// `configuration.messageIDHeader` as the C string librdkafka takes, made once.
    private let messageIDHeader: [CChar]?
    private let doorbell = Doorbell()
    private let ready = ReadyTopicQueue()
    private let sleeping = ManagedAtomic<Bool>(false)
    private let control = NIOLockedValueBox(Control())
    private let lastProgress = ManagedAtomic<UInt64>(0)
    private let stalledForTesting = ManagedAtomic<Bool>(false)
    /// Times an event loop rang the doorbell to wake this thread (for tests of the naps).
    package let wakeRequests = ManagedAtomic<Int>(0)
    private weak var receiver: (any DeliveryReceiver)?

    // Producer-thread-only state.
    private var ackBatches: [[DeliveryResult]] = Array(repeating: [], count: MessageTicket.maxRoutes)
    private var failuresByError: [Int32: (error: KafkaError, count: Int)] = [:]

    public init(producer: KafkaProducer, configuration: Configuration, counters: IngestCounters, logger: Logger) {
        self.producer = producer
        self.configuration = configuration
        self.counters = counters
        self.logger = logger
        self.messageIDHeader = configuration.messageIDHeader.map { Array($0.utf8CString) }
        self.registry = RingRegistry(
            configuration: configuration.ring,
            scheduler: self,
            makeTopicHandle: { [producer] name in try producer.topic(name) }
        )
    }

    /// Starts the thread; acknowledgements go to `receiver`.
    public func start(receiver: (any DeliveryReceiver)?) {
        self.receiver = receiver
        self.control.withLockedValue { $0.running = true }
        self.producer.notifyEvents(on: self.doorbell.fileDescriptor)
        DedicatedThread.spawn(name: "kcp-producer") { [self] in self.run() }
    }

    // MARK: called from event loops

    func schedule(_ buffer: TopicBuffer) {
        self.ready.push(buffer)
        // Pairs with `sleepUnlessWork`: if the thread stored `sleeping = true` before our push, we see it here.
        if self.sleeping.load(ordering: .sequentiallyConsistent) {
            self.wakeRequests.wrappingIncrement(ordering: .relaxed)
            self.doorbell.ring()
        }
    }

    // MARK: lifecycle

    /// Produces everything already in the rings and waits for every delivery report, failing what is left
    /// at `deadline` (reported like any failed delivery: nacked to ack-mode clients, logged and counted).
    public func drain(deadline: ContinuousClock.Instant) async -> DrainSummary {
        await withCheckedContinuation { continuation in
            self.control.withLockedValue {
                $0.drainDeadline = deadline
                $0.drainWaiter = continuation
            }
            self.doorbell.ring()
        }
    }

    /// Ends the thread after the current turn; returns once it has exited.
    public func stop() async {
        await withCheckedContinuation { continuation in
            let running = self.control.withLockedValue { control -> Bool in
                control.stopRequested = true
                if control.running { control.stopWaiter = continuation }
                return control.running
            }
            if running { self.doorbell.ring() } else { continuation.resume() }
        }
    }

    /// Test-only fault (enabled by `testing.fault_hooks`): the thread stops making progress, as a wedged
    /// producer would, so tests can see the watchdog stop pinging.
    package func stallForTesting() {
        self.stalledForTesting.store(true, ordering: .relaxed)
        self.doorbell.ring()
    }

    /// Monotonic nanoseconds of the last turn of the loop; the watchdog checks it is recent.
    public var lastProgressNanoseconds: UInt64 { self.lastProgress.load(ordering: .relaxed) }

    // MARK: the thread

    private func run() {
        var pending: [TopicBuffer] = []
        var next: [TopicBuffer] = []
        var lastSweep = ContinuousClock.now
        // Empty naps in a row, up to `napsBeforeSleep` (then the thread sleeps until rung); it starts asleep.
        var emptyNaps = self.configuration.napsBeforeSleep
        while true {
            while self.stalledForTesting.load(ordering: .relaxed) {
                self.doorbell.wait(timeoutMilliseconds: 1000)
                if self.control.withLockedValue({ $0.stopRequested }) { break }
            }
            self.doorbell.reset()
            self.lastProgress.store(MonotonicClock.nanoseconds(), ordering: .relaxed)
            let (stop, deadline) = self.control.withLockedValue { ($0.stopRequested, $0.drainDeadline) }
            if stop { break }

            self.serveReports()
            self.ready.takeAll(into: &pending)
            var blocked = false
            let produced = !pending.isEmpty
            next.removeAll(keepingCapacity: true)
            for buffer in pending {
                switch self.produceRecords(from: buffer) {
                case .queueFull:
                    blocked = true
                    next.append(buffer)
                case .more:
                    next.append(buffer)
                case .empty:
                    self.finishTurn(buffer, requeue: &next)
                }
            }
            swap(&pending, &next)
            self.serveReports()

            if let deadline {
                if pending.isEmpty && self.ready.isEmpty && self.producer.outstandingCount == 0 {
                    self.completeDrain(failed: 0)
                } else if ContinuousClock.now >= deadline {
                    let failed = self.failEverything(&pending)
                    self.completeDrain(failed: failed)
                }
            }

            let now = ContinuousClock.now
            if now - lastSweep >= .seconds(1) {
                lastSweep = now
                self.registry.reclaimIdle()
            }

            if pending.isEmpty || blocked {
                emptyNaps = produced ? 0 : min(emptyNaps &+ 1, self.configuration.napsBeforeSleep)
                if !blocked && self.configuration.napMilliseconds > 0 && emptyNaps < self.configuration.napsBeforeSleep
                {
                    // Records came lately: nap without asking pushers to ring (delivery reports still do).
                    self.doorbell.wait(timeoutMilliseconds: self.configuration.napMilliseconds)
                } else {
                    // Idle, or blocked on a full librdkafka queue (a delivery report will ring the bell).
                    emptyNaps = self.configuration.napsBeforeSleep
                    self.sleepUnlessWork(timeoutMilliseconds: deadline == nil ? 1000 : 50)
                }
            }
        }
        self.ready.takeAll(into: &pending)
        if !pending.isEmpty || self.producer.outstandingCount > 0 {
            self.logger.error(
                "producer thread stopped with undelivered messages",
                metadata: ["outstanding": "\(self.producer.outstandingCount)"]
            )
        }
        let waiter = self.control.withLockedValue { control -> CheckedContinuation<Void, Never>? in
            control.running = false
            defer { control.stopWaiter = nil }
            return control.stopWaiter
        }
        waiter?.resume()
    }

    private enum TurnOutcome { case empty, more, queueFull }

    /// Hands up to `recordsPerTurn` records of one ring to librdkafka.
    private func produceRecords(from buffer: TopicBuffer) -> TurnOutcome {
        var queueFull = false
        let producer = self.producer
        let policy = self.configuration.keyPolicy
        let header = self.messageIDHeader
        let consumed = buffer.ring.drain(maxRecords: self.configuration.recordsPerTurn) { record in
            let (value, id) = self.valueAndID(of: record)
            let error = buffer.withKey(for: record, policy: policy) { key -> KafkaError? in
                guard let header, id.count > 0 else {
                    return producer.produce(buffer.kafkaTopic, payload: value, key: key, opaque: record.opaque)
                }
                return MessageIDTrailer.withHeaderValue(ofIDToken: id) { headerValue in
                    header.withUnsafeBufferPointer { name in
                        producer.produce(
                            buffer.kafkaTopic,
                            payload: value,
                            key: key,
                            header: name.baseAddress!,
                            value: headerValue,
                            opaque: record.opaque
                        )
                    }
                }
            }
            guard let error else { return true }
            if error == .queueFull {
                queueFull = true
                return false
            }
            // Refused outright (e.g. larger than message.max.bytes): reported like a failed delivery.
            self.handle(
                DeliveryReport(
                    opaque: record.opaque,
                    partition: -1,
                    offset: -1,
                    error: error,
                    payloadBytes: value.count
                )
            )
            return true
        }
        if consumed > 0 {
            self.counters.countProduced(consumed)
            buffer.wakeWaiters()
        }
        if queueFull { return .queueFull }
        return consumed == self.configuration.recordsPerTurn ? .more : .empty
    }

    /// A record's Kafka value and its id token: with `kafka.message_id_header` the record ends in a
    /// `MessageIDTrailer`; without it the record is the value and the id is empty.
    @inline(__always)
    private func valueAndID(of record: RingRecord) -> (value: UnsafeRawBufferPointer, id: UnsafeRawBufferPointer) {
        guard self.messageIDHeader != nil else { return (record.payload, UnsafeRawBufferPointer(start: nil, count: 0)) }
        return MessageIDTrailer.split(record.payload)
    }

    /// Leaves a drained ring unscheduled, unless a record arrived meanwhile.
    private func finishTurn(_ buffer: TopicBuffer, requeue: inout [TopicBuffer]) {
        buffer.scheduled.store(false, ordering: .sequentiallyConsistent)
        // Pairs with the fence in `TopicBuffer.push`.
        atomicMemoryFence(ordering: .sequentiallyConsistent)
        if !buffer.ring.isEmpty,
            buffer.scheduled.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged
        {
            requeue.append(buffer)
        }
    }

    private func sleepUnlessWork(timeoutMilliseconds: Int32) {
        self.sleeping.store(true, ordering: .sequentiallyConsistent)
        if self.ready.isEmpty {
            self.doorbell.wait(timeoutMilliseconds: timeoutMilliseconds)
        }
        self.sleeping.store(false, ordering: .sequentiallyConsistent)
    }

    // MARK: delivery reports

    private func serveReports() {
        self.producer.serveEvents { report in self.handle(report) }
        self.flushAcks()
    }

    private func handle(_ report: DeliveryReport) {
        if let error = report.error {
            self.counters.countFailed(DeliveryFailureCause(error))
            self.failuresByError[error.code, default: (error, 0)].count += 1
        } else {
            self.counters.countDelivered()
            if report.latencyMicroseconds >= 0 {
                self.counters.deliveryLatency.record(nanoseconds: UInt64(report.latencyMicroseconds) &* 1000)
            }
        }
        let ticket = MessageTicket(rawValue: report.opaque)
        if ticket.wantsAck {
            self.ackBatches[ticket.route].append(DeliveryResult(report))
        }
    }

    /// One hand-off per event loop with acks waiting, and one log line per kind of failure.
    private func flushAcks() {
        if !self.failuresByError.isEmpty {
            for (_, entry) in self.failuresByError {
                self.logger.warning(
                    "messages could not be delivered to Kafka",
                    metadata: [
                        "count": "\(entry.count)", "error": "\(entry.error.name)", "detail": "\(entry.error.message)",
                    ]
                )
            }
            self.failuresByError.removeAll(keepingCapacity: true)
        }
        guard let receiver = self.receiver else {
            for route in self.ackBatches.indices where !self.ackBatches[route].isEmpty {
                self.ackBatches[route].removeAll()
            }
            return
        }
        for route in self.ackBatches.indices where !self.ackBatches[route].isEmpty {
            let batch = self.ackBatches[route]
            self.ackBatches[route] = []
            receiver.deliver(batch, route: route)
        }
    }

    /// Deadline passed: fail what is still in rings, purge librdkafka, collect the purge reports.
    private func failEverything(_ pending: inout [TopicBuffer]) -> Int {
        var failed = 0
        self.ready.takeAll(into: &pending)
        for buffer in self.registry.allBuffers() {
            failed += buffer.ring.drain(maxRecords: .max) { record in
                self.handle(
                    DeliveryReport(
                        opaque: record.opaque,
                        partition: -1,
                        offset: -1,
                        error: .purgedFromQueue,
                        payloadBytes: self.valueAndID(of: record).value.count
                    )
                )
                return true
            }
            buffer.wakeWaiters()
        }
        var requeued: [TopicBuffer] = []
        for buffer in pending { self.finishTurn(buffer, requeue: &requeued) }
        pending.removeAll()
        failed += self.producer.outstandingCount
        self.producer.purgeAll()
        let purgeDeadline = ContinuousClock.now + .seconds(2)
        while self.producer.outstandingCount > 0 && ContinuousClock.now < purgeDeadline {
            self.producer.serveEvents(timeoutMilliseconds: 50) { report in self.handle(report) }
        }
        self.flushAcks()
        return failed
    }

    private func completeDrain(failed: Int) {
        let waiter = self.control.withLockedValue { control -> CheckedContinuation<DrainSummary, Never>? in
            control.drainDeadline = nil
            defer { control.drainWaiter = nil }
            return control.drainWaiter
        }
        waiter?.resume(returning: DrainSummary(completedInTime: failed == 0, failedAtDeadline: failed))
    }
}

extension ProducerThread: MessageIngest {
    public func attach(to topic: TopicName) throws(RingRegistryError) -> TopicBuffer {
        try self.registry.attach(to: topic)
    }

    public func detach(_ buffer: TopicBuffer) {
        self.registry.detach(buffer)
    }

    public func usage() -> RingRegistry.Usage {
        self.registry.usage()
    }

    public func topicNames(withPrefix prefix: String, timeoutMilliseconds: Int32) -> Set<String>? {
        self.producer.topicNames(withPrefix: prefix, timeoutMilliseconds: timeoutMilliseconds)
    }
}

import Benchmark
import ChatContract
import Ingest
import NIOCore
import WebSocketProtocol

/// Frames per iteration; also the scaling factor, so results read per message.
private let framesPerIteration = BenchmarkScalingFactor.kilo.rawValue

/// The event loop's whole per-message path, as `WebSocketConnectionHandler` runs it for an accepted message:
/// a socket `ByteBuffer` holding 1000 masked client text frames → `WebSocketFrameReader.read` (single-frame
/// messages handed over zero-copy, UTF-8 left to the validator as in the daemon) →
/// `ChatMessageValidator.validate` → `TopicRing.push` with `writeCanonical` as the fill.
///
/// Not measured: rewinding the buffer before each iteration and draining the ring after it. The drain runs on
/// the benchmark's own thread (in the daemon the producer thread does it), so the figure is the event loop's
/// share of the work without cross-core cache traffic. Connection bookkeeping (tickets, counters, acks) is not
/// part of it.
func registerPipelineBenchmarks() {
    for size in MessageSize.allCases {
        let pipeline = FramePipeline(size: size)

        Benchmark(
            "Pipeline frame→validate→ring \(size.label)",
            configuration: singleThreadConfiguration(scalingFactor: .kilo)
        ) { benchmark in
            pipeline.rewind()
            benchmark.startMeasurement()
            let outcome = pipeline.ingestAll()
            benchmark.stopMeasurement()
            let drained = pipeline.drain()
            guard outcome.readOutcome == .needMoreBytes, outcome.pushed == benchmark.scaledIterations.count,
                drained == outcome.pushed
            else {
                benchmark.error("read \(outcome.readOutcome), pushed \(outcome.pushed), drained \(drained)")
                return
            }
        }
    }
}

/// One connection's state on the path: its input bytes, its frame reader and its topic's ring.
final class FramePipeline {
    private var input: ByteBuffer
    private var reader = WebSocketFrameReader(maxMessageBytes: 64 * 1024, maxFragments: 128, validatesTextUTF8: false)
    private let ring: TopicRing
    private var sequence: UInt64 = 0

    init(size: MessageSize) {
        let messages = ChatMessageFactory.messages(count: 32, size: size, seed: size.seed)
        input = ClientFrames.stream(of: messages, frames: framesPerIteration, seed: 0x3A5C_0001)
        // The daemon's 1 MiB ring holds an iteration of typical messages; the long ones need the next size up.
        // Record = 16-byte header + payload (canonical ≤ message) rounded up to 8; one more for wrap padding.
        let recordBytes = 16 + messages.map(\.count).max()! + 8
        var capacity = 1 << 20
        while capacity < recordBytes * (framesPerIteration + 1) { capacity <<= 1 }
        ring = TopicRing(capacityBytes: capacity)
    }

    /// Puts the reader index back at the first frame. The buffer is never copied (it has one owner), so
    /// this is an index move, not a copy-on-write.
    func rewind() {
        input.moveReaderIndex(to: 0)
    }

    /// Reads every frame in the buffer and pushes each accepted message into the ring.
    func ingestAll() -> (readOutcome: WebSocketReadOutcome, pushed: Int) {
        var pushed = 0
        var failed = false
        let ring = self.ring
        var sequence = self.sequence
        let readOutcome = reader.read(&input) { event in
            guard case .text(let payload) = event, !failed else {
                failed = true
                return .consumed
            }
            switch ChatMessageValidator.validate(payload.bytes, maskKey: payload.maskKey) {
            case .success(let message):
                sequence &+= 1
                let result = ring.push(
                    payloadCount: ChatMessageValidator.canonicalByteCount(of: message),
                    opaque: sequence,
                    tag: 0
                ) { destination in
                    _ = ChatMessageValidator.writeCanonical(
                        message,
                        from: payload.bytes,
                        maskKey: payload.maskKey,
                        to: destination.baseAddress!
                    )
                }
                if result == .pushed {
                    pushed += 1
                } else {
                    failed = true
                }
            case .failure:
                failed = true
            }
            return .consumed
        }
        self.sequence = sequence
        return (readOutcome, failed ? -1 : pushed)
    }

    /// Empties the ring (the producer thread's job in the daemon); returns the number of records.
    func drain() -> Int {
        var bytes = 0
        let drained = ring.drain(maxRecords: .max) { record in
            bytes &+= record.payload.count
            return true
        }
        blackHole(bytes)
        return drained
    }
}

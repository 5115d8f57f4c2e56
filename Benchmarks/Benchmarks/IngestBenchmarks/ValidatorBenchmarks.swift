import Benchmark
import ChatContract
import WebSocketProtocol

/// The message contract on its own: `validate` (one pass over the masked bytes) and `writeCanonical`
/// (the copy into the ring), each on 1000 messages per iteration, reported per message.
func registerValidatorBenchmarks() {
    for size in MessageSize.allCases {
        // Built at registration: a few KiB, and the benchmark closures only read it.
        let corpus = MaskedCorpus(size: size, seed: size.seed)

        Benchmark(
            "Validator.validate \(size.label)",
            configuration: singleThreadConfiguration(scalingFactor: .kilo)
        ) { benchmark in
            let samples = corpus.samples
            let indexMask = corpus.indexMask
            // Summing a field keeps the optimizer from dropping calls whose result is unused.
            var checksum = 0
            for index in benchmark.scaledIterations {
                let sample = samples[index & indexMask]
                switch ChatMessageValidator.validate(sample.bytes, maskKey: sample.maskKey) {
                case .success(let message):
                    checksum &+= message.text.count
                case .failure(let rejection):
                    benchmark.error("fixture message rejected: \(rejection.message)")
                    return
                }
            }
            blackHole(checksum)
        }

        Benchmark(
            "Validator.writeCanonical \(size.label)",
            configuration: singleThreadConfiguration(scalingFactor: .kilo)
        ) { benchmark in
            let samples = corpus.samples
            let indexMask = corpus.indexMask
            // One preallocated destination, as the ring's arena would be: only the copy is measured.
            let destination = corpus.destination.baseAddress!
            var written = 0
            for index in benchmark.scaledIterations {
                let sample = samples[index & indexMask]
                written &+= ChatMessageValidator.writeCanonical(
                    sample.message,
                    from: sample.bytes,
                    maskKey: sample.maskKey,
                    to: destination
                )
            }
            blackHole(written)
            blackHole(destination.load(as: UInt8.self))
        }
    }

    registerRejectionControl()
}

/// A control for the malloc metric: a rejected message *does* allocate (its reason text is built by string
/// interpolation; 3 mallocs per message when written), so this must read non-zero. If it reads 0, the malloc
/// interposer is not active and the zeros elsewhere mean nothing. Also the price of refusing a message.
private func registerRejectionControl() {
    let plain = Array(
        #"{"sender":"alice","text":12345,"tag":"chat","note":"text must be a string, not a number"}"#.utf8
    )
    let maskKey: UInt32 = 0x5A17_C0DE
    let masked = UnsafeMutableRawBufferPointer.allocate(byteCount: plain.count, alignment: 16)
    plain.withUnsafeBytes { WebSocketMask.copyUnmasking($0, maskKey: maskKey, into: masked) }
    let bytes = UnsafeRawBufferPointer(masked)  // lives as long as the process: one per run

    Benchmark(
        "Validator.validate rejected (control: allocates)",
        configuration: singleThreadConfiguration(scalingFactor: .kilo)
    ) { benchmark in
        var rejected = 0
        for _ in benchmark.scaledIterations {
            if case .failure(let rejection) = ChatMessageValidator.validate(bytes, maskKey: maskKey),
                rejection.reason == .wrongType
            {
                rejected &+= 1
            }
        }
        guard rejected == benchmark.scaledIterations.count else {
            benchmark.error("expected every message to be rejected as wrong_type, got \(rejected)")
            return
        }
    }
}

@_spi(ByteKernels) import ChatContract

/// The differential check of the per-byte work: the vectorised kernels the daemon runs against the
/// byte-at-a-time reference (`ByteKernelChoice`), on the payload as it sat in memory (possibly masked).
///
/// - the validator gives the same result (verdict, spans, reason, message, id) with either set of kernels;
/// - the UTF-8 verdicts agree (the vectorised kernels' own verdict, not the position they ask the
///   reference for);
/// - the end of a plain string run agrees from every start offset (about 64 of them in long payloads), to
///   the end of the payload and to a point before it;
/// - the unmasking copy gives the plain bytes for ranges of every length class, and an accepted message's
///   record is the same bytes with either kernels.
public enum KernelChecks {
    public static func check(
        _ result: Result<ChatMessage, ChatMessageRejection>,
        payload: UnsafeRawBufferPointer,
        maskKey: UInt32,
        plain: [UInt8]
    ) {
        let reference = ChatMessageValidator.validate(payload, maskKey: maskKey, kernels: .scalar)
        fuzzCheck(result == reference, "vector kernels give \(result), the reference \(reference)", input: plain)

        let vectorUTF8 = ChatMessageValidator.isValidUTF8(payload, maskKey: maskKey, kernels: .vector)
        let scalarUTF8 = ChatMessageValidator.isValidUTF8(payload, maskKey: maskKey, kernels: .scalar)
        fuzzCheck(vectorUTF8 == scalarUTF8, "UTF-8: vector says \(vectorUTF8), reference \(scalarUTF8)", input: plain)

        let count = payload.count
        // Every start offset in short payloads; about 64 spread over a long one (fuzzing speed).
        let step = count <= 64 ? 1 : count / 64 + 1
        for start in stride(from: 0, through: count, by: step) {
            for end in [count, start + (count - start) / 2] {
                let vector = ChatMessageValidator.endOfPlainRun(
                    payload,
                    maskKey: maskKey,
                    from: start,
                    to: end,
                    kernels: .vector
                )
                let scalar = ChatMessageValidator.endOfPlainRun(
                    payload,
                    maskKey: maskKey,
                    from: start,
                    to: end,
                    kernels: .scalar
                )
                fuzzCheck(
                    vector == scalar,
                    "plain run \(start)..<\(end): vector \(vector), reference \(scalar)",
                    input: plain
                )
            }
        }

        for length in [0, 1, 3, 4, 7, 8, 15, 16, 17, 31, 32, 33, count] where length <= count {
            for offset in Set([0, 1, 2, 3, (count - length) / 2, count - length]) where offset <= count - length {
                for kernels in ByteKernelChoice.allCases {
                    let copied = copy(payload, maskKey: maskKey, offset: offset, count: length, kernels: kernels)
                    fuzzCheck(
                        copied == Array(plain[offset..<(offset + length)]),
                        "\(kernels) copy of \(offset)..<\(offset + length) differs from the plain bytes",
                        input: plain
                    )
                }
            }
        }

        if case .success(let message) = result {
            let records = ByteKernelChoice.allCases.map { kernels in
                canonicalRecord(message, payload: payload, maskKey: maskKey, kernels: kernels)
            }
            fuzzCheck(
                records[0].written == records[1].written && records[0].bytes == records[1].bytes,
                "the record differs between vector and reference kernels",
                input: plain
            )
        }
    }

    /// A copy into a buffer of exactly `count` bytes, so AddressSanitizer sees any write past it.
    private static func copy(
        _ payload: UnsafeRawBufferPointer,
        maskKey: UInt32,
        offset: Int,
        count: Int,
        kernels: ByteKernelChoice
    ) -> [UInt8] {
        let destination = UnsafeMutableRawBufferPointer.allocate(byteCount: max(count, 1), alignment: 1)
        defer { destination.deallocate() }
        ChatMessageValidator.copyUnmasked(
            payload,
            maskKey: maskKey,
            from: offset,
            count: count,
            to: destination.baseAddress!,
            kernels: kernels
        )
        return Array(destination.prefix(count))
    }

    /// The canonical record written into a buffer of exactly `canonicalByteCount` bytes (AddressSanitizer
    /// sees any write past it), and the count `writeCanonical` returned.
    static func canonicalRecord(
        _ message: ChatMessage,
        payload: UnsafeRawBufferPointer,
        maskKey: UInt32,
        kernels: ByteKernelChoice
    ) -> (written: Int, bytes: [UInt8]) {
        let count = ChatMessageValidator.canonicalByteCount(of: message)
        let destination = UnsafeMutableRawBufferPointer.allocate(byteCount: count, alignment: 1)
        defer { destination.deallocate() }
        let written = ChatMessageValidator.writeCanonical(
            message,
            from: payload,
            maskKey: maskKey,
            to: destination.baseAddress!,
            kernels: kernels
        )
        return (written, Array(destination))
    }
}

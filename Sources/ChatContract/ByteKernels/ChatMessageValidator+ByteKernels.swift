/// The validator with a chosen `ByteKernels` implementation, and the kernels themselves, for the fuzz
/// targets and tests that hold the vectorised kernels to the reference. Not for the daemon: it always runs
/// the vectorised ones through the plain entry points.
@_spi(ByteKernels)
extension ChatMessageValidator {
    public static func validate(
        _ input: UnsafeRawBufferPointer,
        maskKey: UInt32,
        kernels: ByteKernelChoice
    ) -> Result<ChatMessage, ChatMessageRejection> {
        switch kernels {
        case .vector: validate(input, maskKey: maskKey, using: VectorByteKernels.self)
        case .scalar: validate(input, maskKey: maskKey, using: ScalarByteKernels.self)
        }
    }

    public static func writeCanonical(
        _ message: ChatMessage,
        from input: UnsafeRawBufferPointer,
        maskKey: UInt32,
        to destination: UnsafeMutableRawPointer,
        kernels: ByteKernelChoice
    ) -> Int {
        switch kernels {
        case .vector:
            writeCanonical(message, from: input, maskKey: maskKey, to: destination, using: VectorByteKernels.self)
        case .scalar:
            writeCanonical(message, from: input, maskKey: maskKey, to: destination, using: ScalarByteKernels.self)
        }
    }

    /// Whether `input` is well-formed UTF-8, by the chosen kernels' own check (the vectorised kernels only
    /// ask the reference where the first bad byte is, not whether there is one).
    public static func isValidUTF8(_ input: UnsafeRawBufferPointer, maskKey: UInt32, kernels: ByteKernelChoice) -> Bool
    {
        let payload = MaskedPayload(input, maskKey: maskKey)
        switch kernels {
        case .vector: return VectorByteKernels.isValidUTF8(payload)
        case .scalar: return ScalarByteKernels.firstInvalidUTF8(in: payload) == nil
        }
    }

    /// `ByteKernels.endOfPlainRun` over `offset..<end` of `input`.
    public static func endOfPlainRun(
        _ input: UnsafeRawBufferPointer,
        maskKey: UInt32,
        from offset: Int,
        to end: Int,
        kernels: ByteKernelChoice
    ) -> Int {
        precondition(0 <= offset && offset <= end && end <= input.count, "range outside the input")
        let payload = MaskedPayload(input, maskKey: maskKey)
        switch kernels {
        case .vector: return VectorByteKernels.endOfPlainRun(in: payload, from: offset, to: end)
        case .scalar: return ScalarByteKernels.endOfPlainRun(in: payload, from: offset, to: end)
        }
    }

    /// `ByteKernels.copy` of `count` bytes from `offset`.
    public static func copyUnmasked(
        _ input: UnsafeRawBufferPointer,
        maskKey: UInt32,
        from offset: Int,
        count: Int,
        to destination: UnsafeMutableRawPointer,
        kernels: ByteKernelChoice
    ) {
        precondition(offset >= 0 && count >= 0 && count <= input.count - offset, "range outside the input")
        let payload = MaskedPayload(input, maskKey: maskKey)
        switch kernels {
        case .vector: VectorByteKernels.copy(payload, from: offset, count: count, to: destination)
        case .scalar: ScalarByteKernels.copy(payload, from: offset, count: count, to: destination)
        }
    }
}

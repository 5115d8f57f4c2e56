/// The chat message contract: which WebSocket text messages are accepted and the exact bytes
/// that are published for them.
///
/// A message is a JSON object with string fields `sender`, `text` and `tag`, an optional `id`
/// (string or number, echoed in acks) and any other fields, which are ignored. The published
/// record value is the canonical `{"sender":S,"text":T,"tag":G}` built from the client's raw
/// tokens, so consumers see one fixed shape whatever extras or spacing the client sent.
public enum ChatMessageValidator {
    /// Longest `id` token (quotes included) accepted; acks echo it, so it must stay small.
    public static let maxIDByteCount = 256
    /// Deepest nesting of arrays and objects inside one ignored field's value (or a top-level non-object).
    public static let maxNestingDepth = 64
    /// Bytes the canonical record adds to the three tokens: `{"sender":` `,"text":` `,"tag":` `}`.
    @inlinable
    public static var canonicalOverhead: Int { 26 }

    /// Validates one complete text message. `input` holds the bytes AS THEY CAME OFF THE WIRE, XOR-masked:
    /// the real byte at offset i is `input[i] ^ UInt8(truncatingIfNeeded: maskKey >> ((i & 3) * 8))`.
    /// maskKey == 0 means plain bytes. Two passes over the bytes (UTF-8, then the JSON grammar), each 16
    /// bytes per step where the bytes allow it; no allocation on success.
    ///
    /// Precedence of rejections: invalid UTF-8 anywhere (the gateway must then close the connection with
    /// 1007 rather than reply), then invalid JSON, then a top level that is not an object, then the first
    /// broken field rule in input order, then the first missing field.
    public static func validate(
        _ input: UnsafeRawBufferPointer,
        maskKey: UInt32
    ) -> Result<ChatMessage, ChatMessageRejection> {
        validate(input, maskKey: maskKey, using: VectorByteKernels.self)
    }

    @inline(__always)
    static func validate<Kernels: ByteKernels>(
        _ input: UnsafeRawBufferPointer,
        maskKey: UInt32,
        using kernels: Kernels.Type
    ) -> Result<ChatMessage, ChatMessageRejection> {
        let payload = MaskedPayload(input, maskKey: maskKey)
        if let bad = Kernels.firstInvalidUTF8(in: payload) {
            return .failure(invalidUTF8(at: bad, in: payload, using: kernels))
        }
        var shape = ChatMessageScanner<Kernels>(payload)
        if let message = shape.scanCommonShape() { return .success(message) }
        var scanner = ChatMessageScanner<Kernels>(payload)
        do throws(ChatScanFailure) {
            return .success(try scanner.scanMessage())
        } catch {
            return .failure(ChatMessageRejection(reason: error.reason, message: error.message, id: scanner.id))
        }
    }

    /// The rejection for ill-formed UTF-8 at `offset`. It echoes the `id` that was complete before that byte
    /// (as a scan that stopped there would have), found by scanning the valid part.
    @inline(never)
    private static func invalidUTF8<Kernels: ByteKernels>(
        at offset: Int,
        in payload: MaskedPayload,
        using kernels: Kernels.Type
    ) -> ChatMessageRejection {
        var scanner = ChatMessageScanner<Kernels>(payload, end: offset)
        _ = try? scanner.scanMessage()
        return ChatMessageRejection(reason: .invalidUTF8, message: "invalid UTF-8 at byte \(offset)", id: scanner.id)
    }

    /// Exact length of the canonical record value: {"sender":S,"text":T,"tag":G} with the raw tokens.
    @inlinable
    public static func canonicalByteCount(of message: ChatMessage) -> Int {
        canonicalOverhead + message.sender.count + message.text.count + message.tag.count
    }

    /// Writes the canonical record value (unmasking on the way) to `destination`, which has room for
    /// canonicalByteCount(of:) bytes; returns the number written. No allocation.
    public static func writeCanonical(
        _ message: ChatMessage,
        from input: UnsafeRawBufferPointer,
        maskKey: UInt32,
        to destination: UnsafeMutableRawPointer
    ) -> Int {
        writeCanonical(message, from: input, maskKey: maskKey, to: destination, using: VectorByteKernels.self)
    }

    @inline(__always)
    static func writeCanonical<Kernels: ByteKernels>(
        _ message: ChatMessage,
        from input: UnsafeRawBufferPointer,
        maskKey: UInt32,
        to destination: UnsafeMutableRawPointer,
        using kernels: Kernels.Type
    ) -> Int {
        checkBounds(message.sender, input)
        checkBounds(message.text, input)
        checkBounds(message.tag, input)
        let payload = MaskedPayload(input, maskKey: maskKey)
        var written = 0
        written &+= put("{\"sender\":", at: destination + written)
        Kernels.copy(payload, from: message.sender.start, count: message.sender.count, to: destination + written)
        written &+= message.sender.count
        written &+= put(",\"text\":", at: destination + written)
        Kernels.copy(payload, from: message.text.start, count: message.text.count, to: destination + written)
        written &+= message.text.count
        written &+= put(",\"tag\":", at: destination + written)
        Kernels.copy(payload, from: message.tag.start, count: message.tag.count, to: destination + written)
        written &+= message.tag.count
        written &+= put("}", at: destination + written)
        return written
    }

    /// Copies one token unmasked (used to keep the client's id for an ack).
    public static func copyToken(
        _ span: TokenSpan,
        from input: UnsafeRawBufferPointer,
        maskKey: UInt32,
        to destination: UnsafeMutableRawPointer
    ) {
        checkBounds(span, input)
        VectorByteKernels.copy(
            MaskedPayload(input, maskKey: maskKey),
            from: span.start,
            count: span.count,
            to: destination
        )
    }

    /// Spans normally come from `validate`; a wrong one must trap rather than read outside the buffer.
    @inline(__always)
    private static func checkBounds(_ span: TokenSpan, _ input: UnsafeRawBufferPointer) {
        precondition(
            span.start >= 0 && span.count >= 0 && span.count <= input.count - span.start,
            "token span outside the input"
        )
    }

    @inline(__always)
    private static func put(_ text: StaticString, at destination: UnsafeMutableRawPointer) -> Int {
        destination.copyMemory(from: text.utf8Start, byteCount: text.utf8CodeUnitCount)
        return text.utf8CodeUnitCount
    }
}

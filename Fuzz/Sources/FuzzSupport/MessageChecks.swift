@_spi(ByteKernels) import ChatContract
import Foundation

/// What every target checks about one validated chat message, given the validator's result for a payload
/// as it sat in memory (possibly masked):
///
/// - the vectorised per-byte kernels agree with the byte-at-a-time reference (`KernelChecks`);
/// - the result agrees with `ReferenceContract` on the unmasked bytes: same verdict, same rejection
///   reason, same token spans (and, for the field rules, the same echoed `id`);
/// - an accepted message's canonical record is exactly `canonicalByteCount` bytes, written into a buffer of
///   exactly that size (AddressSanitizer sees any write past it), and is valid JSON with exactly the keys
///   sender, text, tag whose string values are the client's values: checked by a structural scan and,
///   independently, by Foundation's `JSONSerialization`;
/// - the record is itself an accepted message whose own canonical record is the same bytes;
/// - copying the `id` token and decoding the sender token (the record key path) give the client's bytes.
public enum MessageChecks {
    /// The part of the outcome the frame target compares between two deliveries of the same stream.
    public enum Outcome: Equatable {
        case accepted(record: [UInt8], id: [UInt8]?)
        case rejected(reason: String, message: String, id: [UInt8]?)
    }

    /// Field-rule rejections: decided after the whole message parsed, so the echoed id is known exactly.
    private static let fieldRuleReasons: Set<String> = ["missing_field", "wrong_type", "duplicate_field", "invalid_id"]

    @discardableResult
    public static func check(
        _ result: Result<ChatMessage, ChatMessageRejection>,
        payload: UnsafeRawBufferPointer,
        maskKey: UInt32
    ) -> Outcome {
        let plain = Masking.apply(payload, key: maskKey)
        KernelChecks.check(result, payload: payload, maskKey: maskKey, plain: plain)
        let verdict = ReferenceContract.evaluate(plain)
        switch (result, verdict) {
        case (.success(let message), .accepted(let expected)):
            fuzzCheck(
                span(message.sender) == expected.sender && span(message.text) == expected.text
                    && span(message.tag) == expected.tag && message.id.map(span) == expected.id,
                "accepted with spans \(describe(message)), the reference says \(expected)",
                input: plain
            )
            let record = checkRecord(message, payload: payload, maskKey: maskKey, plain: plain, expected: expected)
            let id = message.id.map { copyToken($0, payload: payload, maskKey: maskKey, plain: plain) }
            return .accepted(record: record, id: id)

        case (.failure(let rejection), .rejected(let reason, let expectedID)):
            fuzzCheck(
                rejection.reason.rawValue == reason.rawValue,
                "rejected as \(rejection.reason.rawValue) (\(rejection.message)), the reference says \(reason.rawValue)",
                input: plain
            )
            fuzzCheck(!rejection.message.isEmpty, "rejection without a message", input: plain)
            if fieldRuleReasons.contains(reason.rawValue) {
                fuzzCheck(
                    rejection.id.map(span) == expectedID,
                    "rejection echoes id \(String(describing: rejection.id)), the reference says \(String(describing: expectedID))",
                    input: plain
                )
            }
            let id = rejection.id.map { copyToken($0, payload: payload, maskKey: maskKey, plain: plain) }
            if let id {
                fuzzCheck(
                    id.count <= ReferenceContract.maxIDByteCount
                        && ReferenceJSON.isSingleToken(id, of: [.string, .number]),
                    "echoed id is not a string or number token: \(hexDump(id))",
                    input: plain
                )
            }
            return .rejected(reason: rejection.reason.rawValue, message: rejection.message, id: id)

        case (.success(let message), .rejected(let reason, _)):
            fuzzFailure("accepted (\(describe(message))), the reference rejects it as \(reason.rawValue)", input: plain)

        case (.failure(let rejection), .accepted(let expected)):
            fuzzFailure(
                "rejected as \(rejection.reason.rawValue) (\(rejection.message)), the reference accepts it: \(expected)",
                input: plain
            )
        }
    }

    // MARK: - The canonical record

    private static func checkRecord(
        _ message: ChatMessage,
        payload: UnsafeRawBufferPointer,
        maskKey: UInt32,
        plain: [UInt8],
        expected: ReferenceContract.Accepted
    ) -> [UInt8] {
        let count = ChatMessageValidator.canonicalByteCount(of: message)
        let (written, record) = KernelChecks.canonicalRecord(
            message,
            payload: payload,
            maskKey: maskKey,
            kernels: .vector
        )
        fuzzCheck(
            written == count,
            "writeCanonical wrote \(written) bytes, canonicalByteCount said \(count)",
            input: plain
        )

        // Structure: {"sender":S,"text":T,"tag":G} and nothing else, each of S, T, G one string token.
        var offset = 0
        var values: [[UInt8]] = []
        for (index, literal) in ["{\"sender\":", ",\"text\":", ",\"tag\":"].enumerated() {
            let literalBytes = Array(literal.utf8)
            fuzzCheck(
                record.count >= offset + literalBytes.count
                    && Array(record[offset..<offset + literalBytes.count]) == literalBytes,
                "record field \(index) does not start with \(literal): \(hexDump(record))",
                input: plain
            )
            offset += literalBytes.count
            guard let end = endOfStringToken(record, from: offset),
                let value = ReferenceJSON.decodeStringToken(Array(record[offset..<end]))
            else {
                fuzzFailure("record field \(index) is not a JSON string token: \(hexDump(record))", input: plain)
            }
            values.append(value)
            offset = end
        }
        fuzzCheck(
            offset + 1 == record.count && record[offset] == UInt8(ascii: "}"),
            "record does not end with the closing brace: \(hexDump(record))",
            input: plain
        )
        fuzzCheck(
            values == [expected.senderValue, expected.textValue, expected.tagValue],
            "record values differ from the client's values: \(hexDump(record))",
            input: plain
        )

        // The same through an independent parser.
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(record))
        } catch {
            fuzzFailure("JSONSerialization refuses the record (\(error)): \(hexDump(record))", input: plain)
        }
        guard let dictionary = object as? [String: Any], Set(dictionary.keys) == ["sender", "text", "tag"],
            let sender = dictionary["sender"] as? String, let text = dictionary["text"] as? String,
            let tag = dictionary["tag"] as? String
        else {
            fuzzFailure("JSONSerialization reads the record as \(object), not three string fields", input: plain)
        }
        fuzzCheck(
            Array(sender.utf8) == expected.senderValue && Array(text.utf8) == expected.textValue
                && Array(tag.utf8) == expected.tagValue,
            "JSONSerialization reads other values from the record: \(hexDump(record))",
            input: plain
        )

        // The record is a message too, and canonical already.
        record.withUnsafeBytes { bytes in
            guard case .success(let again) = ChatMessageValidator.validate(bytes, maskKey: 0) else {
                fuzzFailure("the record is not an accepted message: \(hexDump(record))", input: plain)
            }
            fuzzCheck(
                again.sender.start == 10 && again.id == nil
                    && ChatMessageValidator.canonicalByteCount(of: again) == record.count,
                "the record validates with other spans: \(describe(again))",
                input: plain
            )
            let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: record.count, alignment: 1)
            defer { copy.deallocate() }
            _ = ChatMessageValidator.writeCanonical(again, from: bytes, maskKey: 0, to: copy.baseAddress!)
            fuzzCheck(Array(copy) == record, "the record's own record differs from it", input: plain)
        }

        // The record key path (`kafka.record_key = sender`) decodes the sender token.
        let senderToken = Array(plain[expected.sender])
        let decodedSender = senderToken.withUnsafeBytes { JSONStringDecoding.decodedContent(ofToken: $0) }
        fuzzCheck(
            decodedSender == expected.senderValue,
            "JSONStringDecoding decodes the sender token \(hexDump(senderToken)) as \(hexDump(decodedSender))",
            input: plain
        )
        return record
    }

    /// Copies a token out of the (masked) payload into a buffer of exactly its size and compares it with
    /// the plain bytes at the same offsets.
    private static func copyToken(
        _ token: TokenSpan,
        payload: UnsafeRawBufferPointer,
        maskKey: UInt32,
        plain: [UInt8]
    ) -> [UInt8] {
        fuzzCheck(
            token.start >= 0 && token.count >= 0 && token.end <= plain.count,
            "token \(token) outside the payload",
            input: plain
        )
        let destination = UnsafeMutableRawBufferPointer.allocate(byteCount: token.count, alignment: 1)
        defer { destination.deallocate() }
        if token.count > 0 {
            ChatMessageValidator.copyToken(token, from: payload, maskKey: maskKey, to: destination.baseAddress!)
        }
        let copied = Array(destination)
        fuzzCheck(copied == Array(plain[token.start..<token.end]), "copyToken unmasked \(token) wrongly", input: plain)
        return copied
    }

    /// The offset just past the string token opening at `start` (a quote), or nil.
    private static func endOfStringToken(_ bytes: [UInt8], from start: Int) -> Int? {
        guard start < bytes.count, bytes[start] == UInt8(ascii: "\"") else { return nil }
        var index = start + 1
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "\""): return index + 1
            case UInt8(ascii: "\\"): index += 2
            default: index += 1
            }
        }
        return nil
    }

    private static func span(_ token: TokenSpan) -> Range<Int> {
        token.start..<(token.start + token.count)
    }

    private static func describe(_ message: ChatMessage) -> String {
        "sender \(span(message.sender)), text \(span(message.text)), tag \(span(message.tag)), id \(String(describing: message.id.map(span)))"
    }
}

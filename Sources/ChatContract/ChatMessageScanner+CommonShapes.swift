/// The two shapes nearly every client sends, read without the general grammar: `JSON.stringify`'s
/// `{"sender":S,"text":T,"tag":G}` and Python `json.dumps`'s `{"sender": S, "text": T, "tag": G}`.
///
/// For a 100-byte message the general scanner spends more on keys, colons, whitespace and field
/// bookkeeping than on the bytes themselves; here each piece between the strings is one or two word
/// compares. Whatever does not match exactly (another order, an `id`, other fields, other spacing, a
/// string with an error in it) answers nil, and the general scanner reads the message from the start, so
/// this path only decides acceptance for inputs the general one accepts with the same spans.
extension ChatMessageScanner {
    /// The message when the whole input is one of the two shapes, else nil (with `position` moved).
    @inline(__always)
    mutating func scanCommonShape() -> ChatMessage? {
        // The byte after `{"sender":` tells which shape to expect.
        guard end >= 32, matches("{\"sender\":", at: 0) else { return nil }
        return input.byte(10) == UInt8(ascii: " ")
            ? scanShape(", \"text\": ", ", \"tag\": ", senderAt: 11)
            : scanShape(",\"text\":", ",\"tag\":", senderAt: 10)
    }

    @inline(__always)
    private mutating func scanShape(
        _ beforeText: StaticString,
        _ beforeTag: StaticString,
        senderAt start: Int
    ) -> ChatMessage? {
        guard let sender = plainString(at: start), matches(beforeText, at: position),
            let text = plainString(at: position &+ beforeText.utf8CodeUnitCount), matches(beforeTag, at: position),
            let tag = plainString(at: position &+ beforeTag.utf8CodeUnitCount),
            position &+ 1 == end, input.byte(position) == UInt8(ascii: "}")
        else { return nil }
        return ChatMessage(sender: sender, text: text, tag: tag)
    }

    /// The string token at `offset` (leaving `position` after it), or nil if there is none or it is invalid.
    @inline(__always)
    private mutating func plainString(at offset: Int) -> TokenSpan? {
        guard offset < end, input.byte(offset) == UInt8(ascii: "\"") else { return nil }
        position = offset
        guard (try? scanString()) != nil else { return nil }
        return TokenSpan(start: offset, count: position &- offset)
    }

    /// Whether the bytes at `offset` are `literal` (2 to 16 bytes): two overlapping word compares.
    @inline(__always)
    private func matches(_ literal: StaticString, at offset: Int) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard count >= 8 else {
            var index = 0
            while index < count {
                guard offset &+ index < end, input.byte(offset &+ index) == literal.utf8Start[index] else {
                    return false
                }
                index &+= 1
            }
            return true
        }
        guard end &- offset >= count else { return false }
        let bytes = UnsafeRawPointer(literal.utf8Start)
        let last = count &- 8
        return input.word(offset) == UInt64(littleEndian: bytes.loadUnaligned(as: UInt64.self))
            && input.word(offset &+ last)
                == UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: last, as: UInt64.self))
    }
}

extension ChatMessage {
    /// Set in `senderKeyTag` when the sender token holds a backslash: the token must be JSON-decoded
    /// before it can serve as the record key.
    public static let senderKeyTagEscapedBit: UInt32 = 0x8000_0000

    /// The ring record's tag for `sender` record keys: the sender token's length (quotes included), with
    /// `senderKeyTagEscapedBit` set when the token holds escapes the producer thread must decode.
    ///
    /// - Parameters:
    ///   - payload: the message's bytes, as validated (still masked when `maskKey` is not 0).
    ///   - maskKey: the WebSocket mask key of `payload`.
    @inlinable
    public func senderKeyTag(in payload: UnsafeRawBufferPointer, maskKey: UInt32) -> UInt32 {
        var tag = UInt32(self.sender.count)
        for index in self.sender.start..<self.sender.end {
            let byte = payload[index] ^ UInt8(truncatingIfNeeded: maskKey >> ((index & 3) * 8))
            if byte == UInt8(ascii: "\\") {
                tag |= Self.senderKeyTagEscapedBit
                break
            }
        }
        return tag
    }
}

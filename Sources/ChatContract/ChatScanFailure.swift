/// A problem found by `ChatMessageScanner`, before it is turned into a `ChatMessageRejection`.
///
/// It also remembers how far the input is known to be valid UTF-8, so that after a JSON error the
/// validator only has to check the remaining bytes (invalid UTF-8 anywhere wins over JSON errors).
struct ChatScanFailure: Error {
    var reason: ChatMessageRejection.Reason
    var message: String
    /// Every byte before this offset is valid UTF-8 and the offset is at a character boundary.
    var validUTF8UpTo: Int
}

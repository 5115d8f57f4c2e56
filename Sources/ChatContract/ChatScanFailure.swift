/// A problem found by `ChatMessageScanner`, before it is turned into a `ChatMessageRejection`.
struct ChatScanFailure: Error {
    var reason: ChatMessageRejection.Reason
    var message: String
}

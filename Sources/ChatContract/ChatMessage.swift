/// A valid chat message: where its fields lie in the input. Value tokens are raw JSON tokens.
///
/// Keeping raw tokens (escapes and all) means the canonical record is a plain concatenation of
/// byte ranges, with no decoding or re-encoding on the hot path.
public struct ChatMessage: Sendable, Equatable {
    /// The `sender` string token, including its quotes.
    public var sender: TokenSpan
    /// The `text` string token, including its quotes.
    public var text: TokenSpan
    /// The `tag` string token, including its quotes.
    public var tag: TokenSpan
    /// The optional `id`: a JSON string or number token, as the client wrote it.
    public var id: TokenSpan?

    public init(sender: TokenSpan, text: TokenSpan, tag: TokenSpan, id: TokenSpan? = nil) {
        self.sender = sender
        self.text = text
        self.tag = tag
        self.id = id
    }
}

/// Byte range of a JSON token (for strings: including both quotes) inside the validated input.
///
/// Offsets rather than slices so that a validated message stays a few plain integers: the bytes
/// remain in the (masked) frame buffer and are only unmasked once, when they are written out.
public struct TokenSpan: Sendable, Equatable {
    public var start: Int
    public var count: Int

    public init(start: Int, count: Int) {
        self.start = start
        self.count = count
    }

    /// One past the last byte of the token.
    @inlinable
    public var end: Int { start + count }
}

/// The per-byte work of reading a chat message: checking UTF-8, finding where a run of plain string bytes
/// ends, and copying bytes out unmasked.
///
/// Everything else the scanner does costs the same whatever the message's length; these three touch every
/// byte, so they decide what a 1 KiB message costs. They exist twice: `ScalarByteKernels`, a byte-at-a-time
/// reference written to be obviously right, and `VectorByteKernels`, 16 bytes per step, which the daemon
/// runs. The fuzz targets run both on every input and require the same answers.
protocol ByteKernels {
    /// The offset of the first byte of the first ill-formed UTF-8 sequence in the whole payload (a stray
    /// continuation byte, an overlong form, a surrogate, a value above U+10FFFF, a sequence cut short or a
    /// byte that never appears in UTF-8), or nil when the payload is valid UTF-8.
    static func firstInvalidUTF8(in payload: MaskedPayload) -> Int?

    /// The first offset in `offset..<end` whose byte ends a plain run inside a JSON string: `"`, `\` or a
    /// control character (below 0x20); `end` if there is none. Bytes from 0x80 up are plain: the payload's
    /// UTF-8 is checked as a whole before the scan.
    static func endOfPlainRun(in payload: MaskedPayload, from offset: Int, to end: Int) -> Int

    /// Copies `count` bytes from `offset` to `destination`, unmasked. Reads only `offset..<offset+count` and
    /// writes only `destination..<destination+count`.
    static func copy(
        _ payload: MaskedPayload,
        from offset: Int,
        count: Int,
        to destination: UnsafeMutableRawPointer
    )
}

/// Which implementation of `ByteKernels` to run; for the fuzz targets and tests that compare the two.
@_spi(ByteKernels)
public enum ByteKernelChoice: Sendable, CaseIterable {
    /// 16 bytes per step: what the daemon runs.
    case vector
    /// One byte per step: the reference.
    case scalar
}

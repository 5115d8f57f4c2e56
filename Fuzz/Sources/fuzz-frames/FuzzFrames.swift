import FuzzSupport

/// Fuzz target: bytes from the socket → `WebSocketFrameReader` → chat message → canonical record, as
/// `WebSocketConnectionHandler` does it (see `ConnectionModel`).
///
/// Input: byte 0 picks the reader's limits (bits 0-1: max message bytes 65536/125/1024/16; bits 2-3: max
/// fragments 128/1/2/5; bit 4: reader checks UTF-8 of single frames too), bytes 1-4 seed the choices
/// below, the rest is what the client sent. Option byte 0 is the daemon's configuration.
///
/// The stream is delivered twice: in one piece without backpressure, and in pieces of fuzzer-chosen sizes
/// (down to single bytes) with the callback answering `retryLater` at chosen messages and resuming later,
/// while more bytes keep arriving. Both must produce the same transcript (every event, every record,
/// every rejection and violation) and leave the same bytes unparsed; every text message goes through
/// `MessageChecks` (reference contract, canonical record), every reply frame is checked.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFrames(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard size >= 5, let data else { return 0 }
    let input = UnsafeRawBufferPointer(start: data, count: size)
    let options = input[0]
    let seed = UInt64(input[1]) | UInt64(input[2]) << 8 | UInt64(input[3]) << 16 | UInt64(input[4]) << 24
    let stream = UnsafeRawBufferPointer(rebasing: input[5...])
    let maxMessageBytes = [65536, 125, 1024, 16][Int(options & 3)]
    let maxFragments = [128, 1, 2, 5][Int(options >> 2 & 3)]
    let validatesTextUTF8 = options & 0x10 != 0

    func model() -> ConnectionModel {
        ConnectionModel(
            maxMessageBytes: maxMessageBytes,
            maxFragments: maxFragments,
            validatesTextUTF8: validatesTextUTF8
        )
    }

    let whole = model()
    whole.receive(stream)

    var choices = SplitMix64(seed: seed)
    let pieces = model()
    pieces.pauses = SplitMix64(seed: ~seed)
    var offset = 0
    while offset < stream.count && !pieces.isClosed {
        if pieces.isPaused && choices.chance(oneIn: 2) {
            pieces.resume()
            continue
        }
        let remaining = stream.count - offset
        let length: Int
        switch choices.below(4) {
        case 0: length = 1
        case 1: length = 1 + choices.below(8)
        case 2: length = 1 + choices.below(64)
        default: length = 1 + choices.below(remaining)
        }
        let end = offset + min(length, remaining)
        pieces.receive(UnsafeRawBufferPointer(rebasing: stream[offset..<end]))
        offset = end
    }
    // The stream ended: space comes back for good.
    pieces.pauses = nil
    pieces.resume()

    fuzzCheck(
        pieces.transcript == whole.transcript,
        "splitting the stream or pausing changed what was read:\nwhole:  \(whole.transcript)\npieces: \(pieces.transcript)",
        input: Array(input)
    )
    fuzzCheck(
        pieces.isClosed == whole.isClosed && (whole.isClosed || pieces.leftover == whole.leftover),
        "splitting the stream left other bytes unparsed: whole \(whole.leftover), pieces \(pieces.leftover)",
        input: Array(input)
    )
    return 0
}

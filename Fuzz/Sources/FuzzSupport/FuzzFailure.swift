#if canImport(Glibc)
import Glibc
#endif

/// Stops the run with a message: libFuzzer catches the abort, saves the input as a crash artifact and
/// prints the stack. (A `precondition` would do too, but its message is less visible in the log.)
public func fuzzFailure(_ message: String, input: [UInt8]? = nil) -> Never {
    var text = "FUZZ CHECK FAILED: \(message)\n"
    if let input {
        text += "input (\(input.count) bytes): \(hexDump(input))\n"
    }
    text.withUTF8 { bytes in
        _ = write(2, bytes.baseAddress, bytes.count)
    }
    abort()
}

/// Stops the run unless `condition` holds.
@inline(__always)
public func fuzzCheck(
    _ condition: @autoclosure () -> Bool,
    _ message: @autoclosure () -> String,
    input: @autoclosure () -> [UInt8]? = nil
) {
    if !condition() { fuzzFailure(message(), input: input()) }
}

/// Bytes as hex, at most 512 of them, e.g. `7b 22 73 …`.
public func hexDump(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var out: [UInt8] = []
    for byte in bytes.prefix(512) {
        if !out.isEmpty { out.append(UInt8(ascii: " ")) }
        out.append(digits[Int(byte >> 4)])
        out.append(digits[Int(byte & 0xF)])
    }
    var text = String(decoding: out, as: UTF8.self)
    if bytes.count > 512 { text += " …" }
    return text
}

/// A small deterministic generator (SplitMix64) for the choices a target derives from its input: split
/// points, mask keys, when backpressure strikes. Deterministic, so a saved crash input replays exactly.
public struct SplitMix64 {
    private var state: UInt64

    public init(seed: UInt64) {
        state = seed
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A value in `0..<bound` (bound > 0); the slight modulo bias does not matter here.
    public mutating func below(_ bound: Int) -> Int {
        Int(truncatingIfNeeded: next() % UInt64(bound))
    }

    /// True with probability 1/`oneIn`.
    public mutating func chance(oneIn: Int) -> Bool {
        below(oneIn) == 0
    }
}

/// RFC 6455 masking in the daemon's key convention (`WebSocketMask`'s documentation): the key is the four
/// mask bytes in wire order loaded little-endian, so payload byte i is XORed with bits (i % 4) * 8 of it.
/// Written out here rather than calling `WebSocketMask`, which is among the code under test.
public enum Masking {
    public static func maskByte(_ key: UInt32, at offset: Int) -> UInt8 {
        UInt8(truncatingIfNeeded: key >> (UInt32(offset % 4) * 8))
    }

    /// The bytes XORed with the mask (masking and unmasking are the same operation).
    public static func apply(_ bytes: UnsafeRawBufferPointer, key: UInt32) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: bytes.count)
        for index in 0..<bytes.count {
            out[index] = bytes[index] ^ maskByte(key, at: index)
        }
        return out
    }
}

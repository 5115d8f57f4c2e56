import ChatContract
import FuzzSupport

/// Fuzz target: `ChatMessageValidator` alone.
///
/// The input is the plain (unmasked) text of one WebSocket message, so the corpus reads as JSON and the
/// mutator works on JSON, not on masked noise. Each input is validated:
/// - plain (mask key 0), straight from libFuzzer's buffer, which has exactly the input's size;
/// - masked with several keys (fixed ones that flip the high bits or leave some lanes plain, and one
///   derived from the input), each copy in a buffer of exactly its size.
/// Every result must equal the plain one (the mask must not matter), and the plain result goes through
/// `MessageChecks` (reference contract, canonical record, id copy) — from the masked copies too, so the
/// unmasking copies are checked against the plain bytes.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMessage(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let plain = UnsafeRawBufferPointer(start: data, count: size)
    let plainResult = ChatMessageValidator.validate(plain, maskKey: 0)
    let plainOutcome = MessageChecks.check(plainResult, payload: plain, maskKey: 0)

    for key in maskKeys(for: plain) {
        let masked = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 1)
        defer { masked.deallocate() }
        for (index, byte) in Masking.apply(plain, key: key).enumerated() {
            masked[index] = byte
        }
        let maskedResult = ChatMessageValidator.validate(UnsafeRawBufferPointer(masked), maskKey: key)
        fuzzCheck(
            maskedResult == plainResult,
            "mask key \(String(key, radix: 16)) changes the result: \(maskedResult) vs plain \(plainResult)",
            input: Array(plain)
        )
        let maskedOutcome = MessageChecks.check(maskedResult, payload: UnsafeRawBufferPointer(masked), maskKey: key)
        fuzzCheck(
            maskedOutcome == plainOutcome,
            "mask key \(String(key, radix: 16)) changes the record or the echoed id",
            input: Array(plain)
        )
    }
    return 0
}

/// Keys that matter for a word-at-a-time scanner: all high bits set (ASCII looks non-ASCII in memory and
/// the other way round), one lane plain, quote/backslash patterns, and one key that depends on the input
/// so the fuzzer can steer it.
private func maskKeys(for input: UnsafeRawBufferPointer) -> [UInt32] {
    var hash: UInt64 = 0xCBF2_9CE4_8422_2325  // FNV-1a
    for byte in input {
        hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
    }
    var generator = SplitMix64(seed: hash)
    return [0x8080_8080, 0xFF00_5C22, UInt32(truncatingIfNeeded: generator.next()) | 1]
}

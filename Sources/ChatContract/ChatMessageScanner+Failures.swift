/// The texts of every failure the scanner reports. Only ever called on the way out of a failed scan, so
/// their allocations never touch the success path.
extension ChatMessageScanner {
    func invalidJSON(_ message: String) -> ChatScanFailure {
        ChatScanFailure(reason: .invalidJSON, message: message)
    }

    /// A field rule was broken; the JSON itself was (or will be) read completely.
    func fieldFailure(_ reason: ChatMessageRejection.Reason, _ message: String) -> ChatScanFailure {
        ChatScanFailure(reason: reason, message: message)
    }

    /// "expected X at byte N, found Y", or the end-of-input variant.
    func unexpected(at offset: Int, expecting expected: String) -> ChatScanFailure {
        if offset >= end {
            return invalidJSON("unexpected end of input at byte \(offset), expected \(expected)")
        }
        return invalidJSON(
            "expected \(expected) at byte \(offset), found \(Self.describe(input.byte(offset)))"
        )
    }

    /// A byte as a client can read it: `'x'` when printable ASCII, `byte 0x07` otherwise.
    static func describe(_ byte: UInt8) -> String {
        if byte >= 0x20, byte < 0x7F {
            return "'\(Character(Unicode.Scalar(byte)))'"
        }
        return "byte \(hex(byte))"
    }

    static func hex(_ byte: UInt8) -> String {
        let digits = String(byte, radix: 16, uppercase: true)
        return byte < 0x10 ? "0x0" + digits : "0x" + digits
    }

    static func hex4(_ unit: UInt32) -> String {
        let digits = String(unit, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}

/// JSON values other than strings: the dispatch on the first byte, unknown containers skipped with a
/// depth counter, member names, colons and whitespace (RFC 8259 §2–5).
extension ChatMessageScanner {
    /// Scans any JSON value starting at `position` and returns its kind.
    @inline(__always)
    mutating func scanValue() throws(ChatScanFailure) -> JSONValueKind {
        if position < end {
            let first = input.byte(position)
            if first == UInt8(ascii: "{") {
                try skipContainer()
                return .object
            }
            if first == UInt8(ascii: "[") {
                try skipContainer()
                return .array
            }
        }
        return try scanScalar()
    }

    /// Scans a string, number or literal starting at `position`.
    @inline(__always)
    mutating func scanScalar() throws(ChatScanFailure) -> JSONValueKind {
        guard position < end else { throw unexpected(at: position, expecting: "a value") }
        switch input.byte(position) {
        case UInt8(ascii: "\""):
            _ = try scanString()
            return .string
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            try scanNumber()
            return .number
        case UInt8(ascii: "t"):
            try scanLiteral("true")
            return .boolean
        case UInt8(ascii: "f"):
            try scanLiteral("false")
            return .boolean
        case UInt8(ascii: "n"):
            try scanLiteral("null")
            return .null
        default:
            throw unexpected(at: position, expecting: "a value")
        }
    }

    /// Skips the array or object starting at `position`. Nesting is tracked with a counter and one
    /// bit per level (object or array) in a UInt64, which is exactly enough for the 64-level limit.
    mutating func skipContainer() throws(ChatScanFailure) {
        var depth = 0
        var objectLevels: UInt64 = 0
        nextValue: while true {
            // `position` is at the start of a value.
            guard position < end else { throw unexpected(at: position, expecting: "a value") }
            let first = input.byte(position)
            if first == UInt8(ascii: "{") || first == UInt8(ascii: "[") {
                guard depth < Self.maxNestingDepth else {
                    throw invalidJSON(
                        "nesting deeper than \(Self.maxNestingDepth) levels at byte \(position)"
                    )
                }
                let isObject = first == UInt8(ascii: "{")
                let levelBit = UInt64(1) &<< UInt64(depth)
                objectLevels = isObject ? objectLevels | levelBit : objectLevels & ~levelBit
                depth &+= 1
                position &+= 1
                skipWhitespace()
                let closer = isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")
                if position < end, input.byte(position) == closer {
                    position &+= 1
                    depth &-= 1
                } else {
                    if isObject { try scanMemberName() }
                    continue nextValue
                }
            } else {
                _ = try scanScalar()
            }
            // A value has ended: close finished containers until the next value starts.
            while depth > 0 {
                skipWhitespace()
                let inObject = objectLevels & (UInt64(1) &<< UInt64(depth &- 1)) != 0
                let closer = inObject ? UInt8(ascii: "}") : UInt8(ascii: "]")
                guard position < end else {
                    throw unexpected(at: position, expecting: inObject ? "',' or '}'" : "',' or ']'")
                }
                let next = input.byte(position)
                if next == UInt8(ascii: ",") {
                    position &+= 1
                    skipWhitespace()
                    if inObject { try scanMemberName() }
                    continue nextValue
                }
                guard next == closer else {
                    throw unexpected(at: position, expecting: inObject ? "',' or '}'" : "',' or ']'")
                }
                position &+= 1
                depth &-= 1
            }
            return
        }
    }

    /// Scans `"name" :` inside a skipped object and the whitespace after the colon.
    mutating func scanMemberName() throws(ChatScanFailure) {
        guard position < end, input.byte(position) == UInt8(ascii: "\"") else {
            throw unexpected(at: position, expecting: "a field name (a string)")
        }
        _ = try scanString()
        try scanColon()
    }

    /// Scans optional whitespace, `:`, and optional whitespace.
    @inline(__always)
    mutating func scanColon() throws(ChatScanFailure) {
        skipWhitespace()
        guard position < end, input.byte(position) == UInt8(ascii: ":") else {
            throw unexpected(at: position, expecting: "':'")
        }
        position &+= 1
        skipWhitespace()
    }

    @inline(__always)
    mutating func skipWhitespace() {
        while position < end {
            switch input.byte(position) {
            case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"):
                position &+= 1
            default:
                return
            }
        }
    }
}

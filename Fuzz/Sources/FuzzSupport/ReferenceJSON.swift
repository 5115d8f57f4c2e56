/// A deliberately plain RFC 8259 parser: recursive descent over an array of bytes, one byte at a time,
/// no word tricks and no code shared with `Sources/`. It is the oracle the daemon's single-pass scanner
/// is compared against, so it is written for obviousness, not speed.
///
/// It assumes the input is already known to be valid UTF-8 (the contract checks that first) and only
/// adds what the daemon's contract adds to RFC 8259: a `\u` high surrogate must be followed by a `\u`
/// low surrogate (lone surrogate escapes are refused), and containers may nest only so deep.
public struct ReferenceJSON {
    public enum Kind: Equatable, Sendable {
        case string, number, boolean, null, object, array
    }

    /// A member of the top-level object.
    public struct Member {
        /// The key with every escape resolved, as UTF-8.
        public var key: [UInt8]
        public var kind: Kind
        /// The value's token (for strings: quotes included), as byte offsets into the input.
        public var range: Range<Int>
        /// A string value with every escape resolved; nil for other kinds.
        public var decoded: [UInt8]?
    }

    public enum Document {
        case object([Member])
        case other(Kind)
    }

    struct Failure: Error {}

    private let bytes: [UInt8]
    private var index = 0

    private init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// Parses a whole document: optional whitespace, one value, optional whitespace, end of input.
    /// The top-level object's own level does not count towards `maxDepth`; each member value may hold
    /// `maxDepth` nested containers. A top-level array may itself nest `maxDepth` deep.
    /// Returns nil for anything that is not valid JSON under those rules.
    public static func parseDocument(_ bytes: [UInt8], maxDepth: Int) -> Document? {
        var parser = ReferenceJSON(bytes)
        do {
            parser.skipWhitespace()
            let document: Document
            if parser.peek() == UInt8(ascii: "{") {
                document = .object(try parser.parseTopLevelObject(maxDepth: maxDepth))
            } else {
                document = .other(try parser.parseValue(depthLeft: maxDepth).kind)
            }
            parser.skipWhitespace()
            guard parser.index == bytes.count else { return nil }
            return document
        } catch {
            return nil
        }
    }

    /// If `bytes` are exactly one JSON string token (quotes included), its content with escapes resolved.
    public static func decodeStringToken(_ bytes: [UInt8]) -> [UInt8]? {
        var parser = ReferenceJSON(bytes)
        guard let decoded = try? parser.parseString(), parser.index == bytes.count else { return nil }
        return decoded
    }

    /// If `bytes` are exactly one JSON value token of the given kind (used to check an echoed `id`).
    public static func isSingleToken(_ bytes: [UInt8], of kinds: [Kind]) -> Bool {
        var parser = ReferenceJSON(bytes)
        guard let value = try? parser.parseValue(depthLeft: 0), parser.index == bytes.count else { return false }
        return kinds.contains(value.kind)
    }

    // MARK: - Grammar

    private func peek() -> UInt8? {
        index < bytes.count ? bytes[index] : nil
    }

    private mutating func next() -> UInt8? {
        guard index < bytes.count else { return nil }
        defer { index += 1 }
        return bytes[index]
    }

    private mutating func expect(_ byte: UInt8) throws(Failure) {
        guard next() == byte else { throw Failure() }
    }

    private mutating func skipWhitespace() {
        while let byte = peek(), byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D {
            index += 1
        }
    }

    private mutating func parseTopLevelObject(maxDepth: Int) throws(Failure) -> [Member] {
        try expect(UInt8(ascii: "{"))
        var members: [Member] = []
        skipWhitespace()
        if peek() == UInt8(ascii: "}") {
            index += 1
            return members
        }
        while true {
            skipWhitespace()
            let key = try parseString()
            skipWhitespace()
            try expect(UInt8(ascii: ":"))
            skipWhitespace()
            let start = index
            let value = try parseValue(depthLeft: maxDepth)
            members.append(Member(key: key, kind: value.kind, range: start..<index, decoded: value.decoded))
            skipWhitespace()
            switch next() {
            case UInt8(ascii: ","): continue
            case UInt8(ascii: "}"): return members
            default: throw Failure()
            }
        }
    }

    /// `depthLeft`: how many containers may still be opened, this value included.
    private mutating func parseValue(depthLeft: Int) throws(Failure) -> (kind: Kind, decoded: [UInt8]?) {
        guard let first = peek() else { throw Failure() }
        switch first {
        case UInt8(ascii: "{"):
            guard depthLeft > 0 else { throw Failure() }
            index += 1
            skipWhitespace()
            if peek() == UInt8(ascii: "}") {
                index += 1
                return (.object, nil)
            }
            while true {
                skipWhitespace()
                _ = try parseString()
                skipWhitespace()
                try expect(UInt8(ascii: ":"))
                skipWhitespace()
                _ = try parseValue(depthLeft: depthLeft - 1)
                skipWhitespace()
                switch next() {
                case UInt8(ascii: ","): continue
                case UInt8(ascii: "}"): return (.object, nil)
                default: throw Failure()
                }
            }
        case UInt8(ascii: "["):
            guard depthLeft > 0 else { throw Failure() }
            index += 1
            skipWhitespace()
            if peek() == UInt8(ascii: "]") {
                index += 1
                return (.array, nil)
            }
            while true {
                skipWhitespace()
                _ = try parseValue(depthLeft: depthLeft - 1)
                skipWhitespace()
                switch next() {
                case UInt8(ascii: ","): continue
                case UInt8(ascii: "]"): return (.array, nil)
                default: throw Failure()
                }
            }
        case UInt8(ascii: "\""):
            return (.string, try parseString())
        case UInt8(ascii: "t"):
            try parseLiteral("true")
            return (.boolean, nil)
        case UInt8(ascii: "f"):
            try parseLiteral("false")
            return (.boolean, nil)
        case UInt8(ascii: "n"):
            try parseLiteral("null")
            return (.null, nil)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            try parseNumber()
            return (.number, nil)
        default:
            throw Failure()
        }
    }

    private mutating func parseLiteral(_ word: String) throws(Failure) {
        for byte in word.utf8 {
            try expect(byte)
        }
    }

    private static func isDigit(_ byte: UInt8?) -> Bool {
        guard let byte else { return false }
        return byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
    private mutating func parseNumber() throws(Failure) {
        if peek() == UInt8(ascii: "-") { index += 1 }
        guard Self.isDigit(peek()) else { throw Failure() }
        if next() != UInt8(ascii: "0") {
            while Self.isDigit(peek()) { index += 1 }
        }
        if peek() == UInt8(ascii: ".") {
            index += 1
            guard Self.isDigit(peek()) else { throw Failure() }
            while Self.isDigit(peek()) { index += 1 }
        }
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
            index += 1
            if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { index += 1 }
            guard Self.isDigit(peek()) else { throw Failure() }
            while Self.isDigit(peek()) { index += 1 }
        }
    }

    private mutating func parseString() throws(Failure) -> [UInt8] {
        try expect(UInt8(ascii: "\""))
        var content: [UInt8] = []
        while true {
            guard let byte = next() else { throw Failure() }
            switch byte {
            case UInt8(ascii: "\""):
                return content
            case UInt8(ascii: "\\"):
                guard let escape = next() else { throw Failure() }
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): content.append(escape)
                case UInt8(ascii: "b"): content.append(0x08)
                case UInt8(ascii: "f"): content.append(0x0C)
                case UInt8(ascii: "n"): content.append(0x0A)
                case UInt8(ascii: "r"): content.append(0x0D)
                case UInt8(ascii: "t"): content.append(0x09)
                case UInt8(ascii: "u"):
                    let unit = try parseHex4()
                    var value = unit
                    if (0xD800...0xDBFF).contains(unit) {
                        try expect(UInt8(ascii: "\\"))
                        try expect(UInt8(ascii: "u"))
                        let low = try parseHex4()
                        guard (0xDC00...0xDFFF).contains(low) else { throw Failure() }
                        value = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00...0xDFFF).contains(unit) {
                        throw Failure()
                    }
                    guard let scalar = Unicode.Scalar(value) else { throw Failure() }
                    content.append(contentsOf: String(Character(scalar)).utf8)
                default:
                    throw Failure()
                }
            case 0x00..<0x20:
                throw Failure()
            default:
                content.append(byte)
            }
        }
    }

    private mutating func parseHex4() throws(Failure) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let byte = next() else { throw Failure() }
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw Failure()
            }
            value = value << 4 | digit
        }
        return value
    }
}

/// The chat message contract (docs/protocol.md, "Message contract"; `ChatMessageValidator`'s documentation) restated
/// over `ReferenceJSON`'s output, step by step in the documented order of precedence:
/// invalid UTF-8 anywhere, then invalid JSON, then a top level that is not an object, then the first
/// broken field rule in input order, then the first missing field.
public enum ReferenceContract {
    /// Same spelling as `ChatMessageRejection.Reason`'s raw values, so the two can be compared.
    public enum Reason: String, Sendable {
        case invalidUTF8 = "invalid_utf8"
        case invalidJSON = "invalid_json"
        case notAnObject = "not_an_object"
        case missingField = "missing_field"
        case wrongType = "wrong_type"
        case duplicateField = "duplicate_field"
        case invalidID = "invalid_id"
    }

    public struct Accepted: Equatable {
        /// Token ranges (string tokens with their quotes; `id` as written) in the input.
        public var sender: Range<Int>
        public var text: Range<Int>
        public var tag: Range<Int>
        public var id: Range<Int>?
        /// The three values with escapes resolved.
        public var senderValue: [UInt8]
        public var textValue: [UInt8]
        public var tagValue: [UInt8]
    }

    public enum Verdict {
        case accepted(Accepted)
        /// `id`: for the field rules (decided after the whole message parsed), the first `id` member if it
        /// was a valid one; nil otherwise.
        case rejected(Reason, id: Range<Int>?)
    }

    public static let maxNestingDepth = 64
    public static let maxIDByteCount = 256

    public static func evaluate(_ bytes: [UInt8]) -> Verdict {
        // 1. UTF-8, checked by the standard library's decoder (rejects overlongs, surrogates, > U+10FFFF).
        guard String(validating: bytes, as: UTF8.self) != nil else {
            return .rejected(.invalidUTF8, id: nil)
        }
        // 2. JSON.
        guard let document = ReferenceJSON.parseDocument(bytes, maxDepth: maxNestingDepth) else {
            return .rejected(.invalidJSON, id: nil)
        }
        // 3. An object.
        guard case .object(let members) = document else {
            return .rejected(.notAnObject, id: nil)
        }
        // 4. Field rules, first problem in input order.
        var seen: Set<String> = []
        var problem: Reason?
        var sender: ReferenceJSON.Member?
        var text: ReferenceJSON.Member?
        var tag: ReferenceJSON.Member?
        var id: Range<Int>?
        for member in members {
            // Compared as bytes: `String ==` would apply Unicode canonical equivalence.
            let name: String
            switch member.key {
            case Array("sender".utf8): name = "sender"
            case Array("text".utf8): name = "text"
            case Array("tag".utf8): name = "tag"
            case Array("id".utf8): name = "id"
            default: continue
            }
            defer { seen.insert(name) }
            if seen.contains(name) {
                problem = problem ?? .duplicateField
            } else if name == "id" {
                if member.kind != .string && member.kind != .number {
                    problem = problem ?? .invalidID
                } else if member.range.count > maxIDByteCount {
                    problem = problem ?? .invalidID
                } else {
                    id = member.range
                }
            } else if member.kind != .string {
                problem = problem ?? .wrongType
            } else {
                switch name {
                case "sender": sender = member
                case "text": text = member
                default: tag = member
                }
            }
        }
        if let problem { return .rejected(problem, id: id) }
        // 5. Missing fields, in contract order.
        guard let sender, let text, let tag else { return .rejected(.missingField, id: id) }
        return .accepted(
            Accepted(
                sender: sender.range,
                text: text.range,
                tag: tag.range,
                id: id,
                senderValue: sender.decoded!,
                textValue: text.decoded!,
                tagValue: tag.decoded!
            )
        )
    }
}

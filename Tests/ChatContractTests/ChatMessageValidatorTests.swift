import ChatContract
import TestSupport
import Testing

// MARK: - Helpers

/// Masks `bytes` the way a WebSocket client does (mask byte 0 is the key's low byte).
private func masked(_ bytes: [UInt8], _ maskKey: UInt32) -> [UInt8] {
    bytes.enumerated().map { offset, byte in
        byte ^ UInt8(truncatingIfNeeded: maskKey >> (UInt32(offset & 3) * 8))
    }
}

private func validate(_ bytes: [UInt8], maskKey: UInt32 = 0) -> Result<ChatMessage, ChatMessageRejection> {
    masked(bytes, maskKey).withUnsafeBytes { ChatMessageValidator.validate($0, maskKey: maskKey) }
}

private func validate(_ text: String, maskKey: UInt32 = 0) -> Result<ChatMessage, ChatMessageRejection> {
    validate(Array(text.utf8), maskKey: maskKey)
}

private func accepted(
    _ result: Result<ChatMessage, ChatMessageRejection>,
    sourceLocation: SourceLocation = #_sourceLocation
) throws -> ChatMessage {
    switch result {
    case .success(let message): return message
    case .failure(let rejection):
        Issue.record("unexpected rejection: \(rejection.reason) \(rejection.message)", sourceLocation: sourceLocation)
        throw rejection
    }
}

private func rejection(
    _ result: Result<ChatMessage, ChatMessageRejection>,
    sourceLocation: SourceLocation = #_sourceLocation
) throws -> ChatMessageRejection {
    switch result {
    case .success(let message):
        Issue.record("unexpectedly accepted: \(message)", sourceLocation: sourceLocation)
        throw AcceptedUnexpectedly()
    case .failure(let rejection): return rejection
    }
}

private struct AcceptedUnexpectedly: Error {}

/// The plain bytes of `span` in `bytes`.
private func token(_ span: TokenSpan, in bytes: [UInt8]) -> [UInt8] {
    Array(bytes[span.start..<span.start + span.count])
}

private func tokenString(_ span: TokenSpan, in text: String) -> String {
    String(decoding: token(span, in: Array(text.utf8)), as: UTF8.self)
}

/// The canonical record for `message`, written from the masked input the way the gateway does it.
private func canonical(_ message: ChatMessage, plain: [UInt8], maskKey: UInt32) -> [UInt8] {
    let input = masked(plain, maskKey)
    let count = ChatMessageValidator.canonicalByteCount(of: message)
    var output = [UInt8](repeating: 0xEE, count: count + 8)
    let written = input.withUnsafeBytes { inputBytes in
        output.withUnsafeMutableBytes {
            ChatMessageValidator.writeCanonical(message, from: inputBytes, maskKey: maskKey, to: $0.baseAddress!)
        }
    }
    #expect(written == count)
    #expect(output[count...].allSatisfy { $0 == 0xEE }, "wrote past canonicalByteCount")
    return Array(output[..<count])
}

private func decoded(_ span: TokenSpan, in bytes: [UInt8]) -> String {
    let content = token(span, in: bytes).withUnsafeBytes { JSONStringDecoding.decodedContent(ofToken: $0) }
    return String(decoding: content, as: UTF8.self)
}

private let maskKeys: [UInt32] = [0, 0x37FA_213D, 0xFFFF_FFFF, 0x0000_0080, 0x8000_0000, 0x1234_5678]

// MARK: - Valid messages

@Suite("Valid chat messages")
struct ValidChatMessageTests {
    @Test("a minimal message yields the three string tokens, quotes included", arguments: maskKeys)
    func minimal(maskKey: UInt32) throws {
        let text = #"{"sender":"alice","text":"hi","tag":"general"}"#
        let message = try accepted(validate(text, maskKey: maskKey))
        #expect(tokenString(message.sender, in: text) == #""alice""#)
        #expect(tokenString(message.text, in: text) == #""hi""#)
        #expect(tokenString(message.tag, in: text) == #""general""#)
        #expect(message.id == nil)
        #expect(message.sender == TokenSpan(start: 10, count: 7))
    }

    @Test("fields may come in any order, with whitespace anywhere JSON allows it", arguments: maskKeys)
    func orderAndWhitespace(maskKey: UInt32) throws {
        let text = " \r\n\t{ \"tag\" :\t\"t\" ,\n\"text\"\r: \"x y\",  \"sender\":\"s\"\n}\t \r\n"
        let message = try accepted(validate(text, maskKey: maskKey))
        #expect(tokenString(message.sender, in: text) == #""s""#)
        #expect(tokenString(message.text, in: text) == #""x y""#)
        #expect(tokenString(message.tag, in: text) == #""t""#)
    }

    @Test("unicode text and every escape are accepted and kept raw", arguments: maskKeys)
    func unicodeAndEscapes(maskKey: UInt32) throws {
        let text = #"{"sender":"Zoë 😀","text":"日本語 \"q\" \\ \/ \b\f\n\r\t \u00e9\uD83D\uDE00 ÿ€𐍈","tag":"ελ"}"#
        let bytes = Array(text.utf8)
        let message = try accepted(validate(bytes, maskKey: maskKey))
        #expect(tokenString(message.text, in: text) == #""日本語 \"q\" \\ \/ \b\f\n\r\t \u00e9\uD83D\uDE00 ÿ€𐍈""#)
        #expect(decoded(message.sender, in: bytes) == "Zoë 😀")
        #expect(decoded(message.text, in: bytes) == "日本語 \"q\" \\ / \u{8}\u{C}\n\r\t é😀 ÿ€𐍈")
        #expect(decoded(message.tag, in: bytes) == "ελ")
    }

    @Test(
        "an id may be a string or a number token, kept as written",
        arguments: [
            (#""m-1""#, #""m-1""#), ("42", "42"), ("-0", "-0"), ("0.5", "0.5"), ("-12.25e+10", "-12.25e+10"),
            ("1E-3", "1E-3"), ("7e9", "7e9"), (#""""#, #""""#), (#""\u00e9\n""#, #""\u00e9\n""#),
        ]
    )
    func idTokens(written: String, expected: String) throws {
        for maskKey in maskKeys {
            let text = #"{"sender":"a","id":"# + written + #" ,"text":"b","tag":"c"}"#
            let message = try accepted(validate(text, maskKey: maskKey))
            let id = try #require(message.id)
            #expect(tokenString(id, in: text) == expected)
        }
    }

    @Test("an id of exactly 256 bytes is accepted")
    func idAtLimit() throws {
        let id = "\"" + String(repeating: "x", count: 254) + "\""
        let text = #"{"id":"# + id + #","sender":"a","text":"b","tag":"c"}"#
        let message = try accepted(validate(text))
        #expect(message.id?.count == 256)
        #expect(ChatMessageValidator.maxIDByteCount == 256)
    }

    @Test("unknown fields of every JSON type are skipped", arguments: maskKeys)
    func unknownFields(maskKey: UInt32) throws {
        let text = """
            {"a":"str \\u0041 ü","b":-1.5e3,"c":true,"d":false,"e":null,"f":{},"g":[],"sender":"s",
             "h":{"x":[1,{"y":[null,true,"z",{"w":{}}]},[]],"v":{"u":-0.0E-0}},"text":"t",
             "i":[[[[]]],{"k":"v"} , [ 1 , 2 ] ],"senders":"no","Sender":1,"tag":"g","":0,"ids":{},"i\\u0064x":1}
            """
        let message = try accepted(validate(text, maskKey: maskKey))
        #expect(tokenString(message.sender, in: text) == #""s""#)
        #expect(tokenString(message.text, in: text) == #""t""#)
        #expect(tokenString(message.tag, in: text) == #""g""#)
        #expect(message.id == nil)
    }

    @Test("keys are compared by value, escapes resolved", arguments: maskKeys)
    func escapedKeys(maskKey: UInt32) throws {
        let text = #"{"\u0073ender":"a","te\u0078t":"b","\u0074\u0061\u0067":"c","\u0069\u0064":5,"s\/ender":"x"}"#
        let message = try accepted(validate(text, maskKey: maskKey))
        #expect(tokenString(message.sender, in: text) == #""a""#)
        #expect(tokenString(message.text, in: text) == #""b""#)
        #expect(tokenString(message.tag, in: text) == #""c""#)
        #expect(tokenString(try #require(message.id), in: text) == "5")
    }

    @Test("unknown values nested exactly 64 levels deep are accepted")
    func nestingAtLimit() throws {
        let arrays = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        let objects = String(repeating: #"{"a":"#, count: 63) + "{}" + String(repeating: "}", count: 63)
        let text = #"{"deep":"# + arrays + #","deeper":"# + objects + #","sender":"a","text":"b","tag":"c"}"#
        _ = try accepted(validate(text))
        #expect(ChatMessageValidator.maxNestingDepth == 64)
    }
}

// MARK: - Canonical output

@Suite("Canonical record value")
struct ChatCanonicalOutputTests {
    @Test("the canonical bytes are the raw tokens in fixed order, unmasked", arguments: maskKeys)
    func canonicalBytes(maskKey: UInt32) throws {
        let text = #" { "id" : 12, "tag":"t\u00e9", "extra":[1,{"x":null}], "text" : "héllo \"w\"", "sender":"bob" } "#
        let bytes = Array(text.utf8)
        let message = try accepted(validate(bytes, maskKey: maskKey))
        let output = canonical(message, plain: bytes, maskKey: maskKey)
        let expected = #"{"sender":"bob","text":"héllo \"w\"","tag":"t\u00e9"}"#
        #expect(String(decoding: output, as: UTF8.self) == expected)
        #expect(output.count == 26 + message.sender.count + message.text.count + message.tag.count)
        #expect(output.count <= bytes.count)

        // The canonical record is itself a valid message with the same values.
        let again = try accepted(validate(output))
        #expect(token(again.sender, in: output) == token(message.sender, in: bytes))
        #expect(token(again.text, in: output) == token(message.text, in: bytes))
        #expect(token(again.tag, in: output) == token(message.tag, in: bytes))
        #expect(decoded(again.text, in: output) == "héllo \"w\"")
        #expect(decoded(again.tag, in: output) == "té")
        #expect(again.id == nil)
    }

    @Test("long tokens at every alignment are copied exactly", arguments: 0..<8)
    func longTokens(shift: Int) throws {
        let padding = String(repeating: " ", count: shift)
        let long = String(repeating: "abcdefghijklmnopqrstuvwxyz0123456789", count: 5)
        let text = padding + #"{"sender":"s\#(long)","text":"\#(long)é","tag":"\#(long)\u0041"}"#
        let bytes = Array(text.utf8)
        for maskKey in maskKeys {
            let message = try accepted(validate(bytes, maskKey: maskKey))
            let output = canonical(message, plain: bytes, maskKey: maskKey)
            #expect(
                String(decoding: output, as: UTF8.self)
                    == #"{"sender":"s\#(long)","text":"\#(long)é","tag":"\#(long)\u0041"}"#
            )
        }
    }

    @Test("copyToken unmasks one token, e.g. the id for an ack", arguments: maskKeys)
    func copyToken(maskKey: UInt32) throws {
        let text = #"{"sender":"a","text":"b","tag":"c","id":"client-7-\u00e9-long-enough"}"#
        let bytes = Array(text.utf8)
        let message = try accepted(validate(bytes, maskKey: maskKey))
        let id = try #require(message.id)
        let input = masked(bytes, maskKey)
        var copy = [UInt8](repeating: 0, count: id.count)
        input.withUnsafeBytes { inputBytes in
            copy.withUnsafeMutableBytes {
                ChatMessageValidator.copyToken(id, from: inputBytes, maskKey: maskKey, to: $0.baseAddress!)
            }
        }
        #expect(String(decoding: copy, as: UTF8.self) == #""client-7-\u00e9-long-enough""#)
    }
}

// MARK: - Rejections

/// One rejection case: the input, the expected reason and a fragment the message must contain.
struct ChatRejectionCase: CustomTestStringConvertible, Sendable {
    var input: [UInt8]
    var reason: ChatMessageRejection.Reason
    var messageContains: String

    init(_ input: String, _ reason: ChatMessageRejection.Reason, _ messageContains: String) {
        self.init(bytes: Array(input.utf8), reason, messageContains)
    }

    init(bytes: [UInt8], _ reason: ChatMessageRejection.Reason, _ messageContains: String) {
        self.input = bytes
        self.reason = reason
        self.messageContains = messageContains
    }

    var testDescription: String {
        "\(reason.rawValue): " + String(decoding: input, as: UTF8.self).debugDescription
    }
}

private let valid = #"{"sender":"a","text":"b","tag":"c"}"#
private func utf8(_ parts: [UInt8]...) -> [UInt8] { parts.flatMap { $0 } }
private func b(_ s: String) -> [UInt8] { Array(s.utf8) }

private let invalidJSONCases: [ChatRejectionCase] = [
    .init("", .invalidJSON, "the message is empty"),
    .init(" \r\n\t", .invalidJSON, "only whitespace"),
    .init(
        #"{"sender":"a","text":"b","tag":"c""#,
        .invalidJSON,
        "unexpected end of input at byte 34, expected ',' or '}'"
    ),
    .init(#"{"sender":"a","text":"b","tag":"#, .invalidJSON, "unexpected end of input at byte 31, expected a value"),
    .init(#"{"sender":"a","text":"b","tag":"c"#, .invalidJSON, "unterminated string starting at byte 31"),
    .init(#"{"sender""#, .invalidJSON, "expected ':'"),
    .init(#"{"#, .invalidJSON, "unexpected end of input at byte 1"),
    .init(#"{"sender" "a","text":"b","tag":"c"}"#, .invalidJSON, "expected ':' at byte 10, found '\"'"),
    .init(#"{"sender":"a" "text":"b","tag":"c"}"#, .invalidJSON, "expected ',' or '}' at byte 14"),
    .init(valid + " x", .invalidJSON, "expected nothing after the message object at byte 36, found 'x'"),
    .init(valid + "{}", .invalidJSON, "at byte 35"),
    .init(valid + ",", .invalidJSON, "at byte 35"),
    .init(
        #"{"sender":"a","text":"b","tag":"c",}"#,
        .invalidJSON,
        "expected a field name (a string) at byte 35, found '}'"
    ),
    .init(#"{sender:"a","text":"b","tag":"c"}"#, .invalidJSON, "expected a field name"),
    .init(#"{'sender':"a","text":"b","tag":"c"}"#, .invalidJSON, "found '''"),
    .init(#"{"sender":"a\uD800","text":"b","tag":"c"}"#, .invalidJSON, #"lone surrogate escape \uD800 at byte 12"#),
    .init(#"{"sender":"a\uDC00\uD800","text":"b","tag":"c"}"#, .invalidJSON, #"lone surrogate escape \uDC00"#),
    .init(#"{"sender":"a\uD800\u0041","text":"b","tag":"c"}"#, .invalidJSON, "lone surrogate"),
    .init(#"{"sender":"a\uDBFF\uDBFF","text":"b","tag":"c"}"#, .invalidJSON, "lone surrogate"),
    .init(#"{"sender":"a\uD83D"#, .invalidJSON, "lone surrogate"),
    .init(#"{"x":"\uDE00","sender":"a","text":"b","tag":"c"}"#, .invalidJSON, "lone surrogate"),
    .init(#"{"sender":"\u12G4","text":"b","tag":"c"}"#, .invalidJSON, #"invalid \u escape at byte 11"#),
    .init(#"{"sender":"\u12"#, .invalidJSON, #"invalid \u escape"#),
    .init(#"{"sender":"\x","text":"b","tag":"c"}"#, .invalidJSON, "invalid escape at byte 11: 'x' after '\\'"),
    .init(#"{"sender":"\'","text":"b","tag":"c"}"#, .invalidJSON, "invalid escape"),
    .init(#"{"sender":"\"#, .invalidJSON, "unterminated escape at byte 11"),
    .init(
        "{\"sender\":\"a\u{1}b\",\"text\":\"b\",\"tag\":\"c\"}",
        .invalidJSON,
        "raw control character 0x01 in a string at byte 12"
    ),
    .init("{\"sender\":\"a\tb\",\"text\":\"b\",\"tag\":\"c\"}", .invalidJSON, "raw control character 0x09"),
    .init("{\"sender\":\"a\nb\",\"text\":\"b\",\"tag\":\"c\"}", .invalidJSON, "raw control character 0x0A"),
    .init("{\"sender\":\"a\",\"text\":\"b\",\"tag\":\"c\u{0}\"}", .invalidJSON, "raw control character 0x00"),
    .init("{\"x\u{1F}\":1,\"sender\":\"a\",\"text\":\"b\",\"tag\":\"c\"}", .invalidJSON, "raw control character 0x1F"),
    .init(#"{"n":01,"sender":"a","text":"b","tag":"c"}"#, .invalidJSON, "number at byte 5 has a leading zero"),
    .init(#"{"n":-01,"sender":"a","text":"b","tag":"c"}"#, .invalidJSON, "leading zero"),
    .init(#"{"n":00,"sender":"a","text":"b","tag":"c"}"#, .invalidJSON, "leading zero"),
    .init(#"{"n":+1,"sender":"a","text":"b","tag":"c"}"#, .invalidJSON, "expected a value at byte 5, found '+'"),
    .init(#"{"n":.5,"sender":"a","text":"b","tag":"c"}"#, .invalidJSON, "expected a value at byte 5, found '.'"),
    .init(#"{"n":1.,"sender":"a","text":"b","tag":"c"}"#, .invalidJSON, "expected a digit after '.' at byte 7"),
    .init(#"{"n":1.e5,"sender":"a","text":"b","tag":"c"}"#, .invalidJSON, "expected a digit after '.'"),
    .init(#"{"n":1e,"sender":"a","text":"b","tag":"c"}"#, .invalidJSON, "expected a digit in the exponent"),
    .init(#"{"n":1e+,"sender":"a","text":"b","tag":"c"}"#, .invalidJSON, "expected a digit in the exponent"),
    .init(#"{"n":1E-x,"sender":"a","text":"b","tag":"c"}"#, .invalidJSON, "expected a digit in the exponent"),
    .init(#"{"n":-,"sender":"a","text":"b","tag":"c"}"#, .invalidJSON, "expected a digit at byte 6"),
    .init(#"{"n":--1,"sender":"a","text":"b","tag":"c"}"#, .invalidJSON, "expected a digit"),
    .init(#"{"n":-a,"sender":"a","text":"b","tag":"c"}"#, .invalidJSON, "expected a digit"),
    .init(#"{"n":0x10,"sender":"a","text":"b","tag":"c"}"#, .invalidJSON, "expected ',' or '}' at byte 6, found 'x'"),
    .init(#"{"n":1.5.2,"sender":"a","text":"b","tag":"c"}"#, .invalidJSON, "expected ',' or '}'"),
    .init(#"{"n":NaN,"sender":"a","text":"b","tag":"c"}"#, .invalidJSON, "expected a value"),
    .init(#"{"n":Infinity,"sender":"a","text":"b","tag":"c"}"#, .invalidJSON, "expected a value"),
    .init(#"{"n":-Infinity,"sender":"a","text":"b","tag":"c"}"#, .invalidJSON, "expected a digit"),
    .init(#"{"n":tru,"sender":"a","text":"b","tag":"c"}"#, .invalidJSON, "invalid literal at byte 5 (expected true)"),
    .init(#"{"n":nul"#, .invalidJSON, "invalid literal at byte 5 (expected null)"),
    .init(#"{"n":fals,"sender":"a","text":"b","tag":"c"}"#, .invalidJSON, "expected false"),
    .init(#"{"n":True,"sender":"a","text":"b","tag":"c"}"#, .invalidJSON, "expected a value"),
    .init(#"{"n":truex,"sender":"a","text":"b","tag":"c"}"#, .invalidJSON, "expected ',' or '}' at byte 9"),
    .init(#"{"n":[1,],"sender":"a","text":"b","tag":"c"}"#, .invalidJSON, "expected a value at byte 8, found ']'"),
    .init(#"{"n":[1 2],"sender":"a","text":"b","tag":"c"}"#, .invalidJSON, "expected ',' or ']' at byte 8"),
    .init(#"{"n":[1}],"sender":"a","text":"b","tag":"c"}"#, .invalidJSON, "expected ',' or ']' at byte 7, found '}'"),
    .init(
        #"{"n":{"a":1]},"sender":"a","text":"b","tag":"c"}"#,
        .invalidJSON,
        "expected ',' or '}' at byte 11, found ']'"
    ),
    .init(#"{"n":{"a"},"sender":"a","text":"b","tag":"c"}"#, .invalidJSON, "expected ':'"),
    .init(
        #"{"n":{1:2},"sender":"a","text":"b","tag":"c"}"#,
        .invalidJSON,
        "expected a field name (a string) at byte 6"
    ),
    .init(#"{"n":{"a":1,},"sender":"a","text":"b","tag":"c"}"#, .invalidJSON, "expected a field name"),
    .init(#"{"n":[,"sender":"a","text":"b","tag":"c"}"#, .invalidJSON, "expected a value"),
    .init(#"{"n":[[[["#, .invalidJSON, "unexpected end of input at byte 9"),
    .init(#"{"n":{"#, .invalidJSON, "unexpected end of input"),
    .init(#"{"n":[1"#, .invalidJSON, "unexpected end of input at byte 7, expected ',' or ']'"),
    .init("{\u{C}\"sender\":\"a\",\"text\":\"b\",\"tag\":\"c\"}", .invalidJSON, "found byte 0x0C"),
    .init("{\"sender\":\"a\",\u{A0}\"text\":\"b\",\"tag\":\"c\"}", .invalidJSON, "found byte 0xC2"),
    .init("\u{FEFF}" + valid, .invalidJSON, "expected '{' at byte 0, found byte 0xEF"),
    .init("}", .invalidJSON, "expected '{' at byte 0, found '}'"),
    .init("[1,]", .invalidJSON, "expected a value"),
    .init(#""abc"#, .invalidJSON, "unterminated string"),
    .init("42 x", .invalidJSON, "expected nothing after the top-level value at byte 3"),
]

private let structuralCases: [ChatRejectionCase] = [
    .init("[]", .notAnObject, "the message must be a JSON object, got an array"),
    .init(#" [{"sender":"a","text":"b","tag":"c"}] "#, .notAnObject, "got an array"),
    .init(#""x""#, .notAnObject, "got a string"),
    .init("42", .notAnObject, "got a number"),
    .init("-1.5e3 ", .notAnObject, "got a number"),
    .init("true", .notAnObject, "got a boolean"),
    .init("null", .notAnObject, "got null"),
    .init("{}", .missingField, #"field "sender" is missing"#),
    .init(#"{"text":"b","tag":"c"}"#, .missingField, #"field "sender" is missing"#),
    .init(#"{"sender":"a","tag":"c"}"#, .missingField, #"field "text" is missing"#),
    .init(#"{"sender":"a","text":"b"}"#, .missingField, #"field "tag" is missing"#),
    .init(#"{"tag":"c"}"#, .missingField, #"field "sender" is missing"#),
    .init(#"{"Sender":"a","text":"b","tag":"c"}"#, .missingField, #"field "sender" is missing"#),
    .init(#"{"sender ":"a","text":"b","tag":"c"}"#, .missingField, #"field "sender" is missing"#),
    .init(#"{"s\/ender":"a","text":"b","tag":"c"}"#, .missingField, #"field "sender" is missing"#),
    .init(#"{"\u0073ender\u0000":"a","text":"b","tag":"c"}"#, .missingField, #"field "sender" is missing"#),
    .init(
        #"{"sender":1,"text":"b","tag":"c"}"#,
        .wrongType,
        #"field "sender" must be a string, got a number at byte 10"#
    ),
    .init(#"{"sender":"a","text":null,"tag":"c"}"#, .wrongType, #"field "text" must be a string, got null at byte 21"#),
    .init(#"{"sender":"a","text":"b","tag":{"x":"c"}}"#, .wrongType, #"field "tag" must be a string, got an object"#),
    .init(#"{"sender":["a"],"text":"b","tag":"c"}"#, .wrongType, #"field "sender" must be a string, got an array"#),
    .init(#"{"sender":"a","text":true,"tag":"c"}"#, .wrongType, #"field "text" must be a string, got a boolean"#),
    .init(#"{"sender":"a","text":"b","tag":false}"#, .wrongType, #"field "tag" must be a string, got a boolean"#),
    .init(
        #"{"sender":"a","text":"b"}"#.dropLast() + #","tag":0}"#,
        .wrongType,
        #"field "tag" must be a string, got a number"#
    ),
    .init(#"{"\u0074ag":1,"sender":"a","text":"b"}"#, .wrongType, #"field "tag" must be a string"#),
    .init(
        #"{"sender":"a","text":"b","tag":"c","sender":"d"}"#,
        .duplicateField,
        #"field "sender" appears more than once (again at byte 35)"#
    ),
    .init(#"{"sender":"a","text":"b","text":"b","tag":"c"}"#, .duplicateField, #"field "text" appears more than once"#),
    .init(#"{"sender":"a","text":"b","tag":"c","tag":"c"}"#, .duplicateField, #"field "tag" appears more than once"#),
    .init(
        #"{"id":1,"sender":"a","text":"b","tag":"c","id":2}"#,
        .duplicateField,
        #"field "id" appears more than once"#
    ),
    .init(
        #"{"sender":"a","text":"b","tag":"c","\u0073ender":"d"}"#,
        .duplicateField,
        #"field "sender" appears more than once"#
    ),
    .init(
        #"{"\u0069d":"x","sender":"a","text":"b","tag":"c","i\u0064":"y"}"#,
        .duplicateField,
        #"field "id" appears more than once"#
    ),
    .init(#"{"sender":1,"sender":"a","text":"b","tag":"c"}"#, .wrongType, #"field "sender" must be a string"#),
    .init(
        #"{"id":true,"sender":"a","text":"b","tag":"c"}"#,
        .invalidID,
        #"field "id" must be a string or a number, got a boolean at byte 6"#
    ),
    .init(#"{"id":null,"sender":"a","text":"b","tag":"c"}"#, .invalidID, "got null"),
    .init(#"{"id":{"a":1},"sender":"a","text":"b","tag":"c"}"#, .invalidID, "got an object"),
    .init(#"{"id":[1],"sender":"a","text":"b","tag":"c"}"#, .invalidID, "got an array"),
    .init(
        #"{"id":""# + String(repeating: "x", count: 255) + #"","sender":"a","text":"b","tag":"c"}"#,
        .invalidID,
        #"field "id" is 257 bytes long at byte 6, at most 256 are allowed"#
    ),
    .init(
        #"{"sender":"a","text":"b","tag":"c","id":1"# + String(repeating: "0", count: 256) + "}",
        .invalidID,
        "257 bytes long"
    ),
    .init(#"{"sender":"a","text":"b","id":false}"#, .invalidID, #"field "id" must be a string or a number"#),
]

private let invalidUTF8Cases: [ChatRejectionCase] = [
    .init(
        bytes: utf8(b(#"{"sender":"a"#), [0xFF], b(#"","text":"b","tag":"c"}"#)),
        .invalidUTF8,
        "invalid UTF-8 at byte 12"
    ),
    .init(
        bytes: utf8(b(#"{"sender":"#), [0x80], b(#","text":"b","tag":"c"}"#)),
        .invalidUTF8,
        "invalid UTF-8 at byte 10"
    ),
    .init(bytes: utf8(b(#"{"sender":"a", "#), [0xFE], b(#""text":"b","tag":"c"}"#)), .invalidUTF8, "at byte 15"),
    .init(bytes: utf8(b(valid), [0xC3]), .invalidUTF8, "at byte 35"),
    .init(bytes: utf8(b(#"{"sender":"a"#), [0xC0, 0xAF], b(#"","text":"b","tag":"c"}"#)), .invalidUTF8, "at byte 12"),
    .init(bytes: utf8(b(#"{"sender":"a"#), [0xC1, 0xBF], b(#"","text":"b","tag":"c"}"#)), .invalidUTF8, "at byte 12"),
    .init(
        bytes: utf8(b(#"{"sender":"a"#), [0xE0, 0x80, 0xAF], b(#"","text":"b","tag":"c"}"#)),
        .invalidUTF8,
        "at byte 12"
    ),
    .init(
        bytes: utf8(b(#"{"sender":"a"#), [0xF0, 0x80, 0x80, 0xAF], b(#"","text":"b","tag":"c"}"#)),
        .invalidUTF8,
        "at byte 12"
    ),
    .init(
        bytes: utf8(b(#"{"sender":"a"#), [0xED, 0xA0, 0x80], b(#"","text":"b","tag":"c"}"#)),
        .invalidUTF8,
        "at byte 12"
    ),
    .init(
        bytes: utf8(b(#"{"sender":"a"#), [0xED, 0xBF, 0xBF], b(#"","text":"b","tag":"c"}"#)),
        .invalidUTF8,
        "at byte 12"
    ),
    .init(
        bytes: utf8(b(#"{"sender":"a"#), [0xF4, 0x90, 0x80, 0x80], b(#"","text":"b","tag":"c"}"#)),
        .invalidUTF8,
        "at byte 12"
    ),
    .init(
        bytes: utf8(b(#"{"sender":"a"#), [0xF5, 0x80, 0x80, 0x80], b(#"","text":"b","tag":"c"}"#)),
        .invalidUTF8,
        "at byte 12"
    ),
    .init(bytes: utf8(b(#"{"sender":"a"#), [0xE2, 0x82], b(#"","text":"b","tag":"c"}"#)), .invalidUTF8, "at byte 12"),
    .init(
        bytes: utf8(b(#"{"sender":"a"#), [0xF0, 0x9F, 0x98], b(#"","text":"b","tag":"c"}"#)),
        .invalidUTF8,
        "at byte 12"
    ),
    .init(bytes: utf8(b(#"{"sender":"a","text":"b","tag":"c"#), [0xE2, 0x82]), .invalidUTF8, "at byte 33"),
    .init(bytes: utf8(b(#"{"sender":"a","text":"b","tag":"c"#), [0xF0]), .invalidUTF8, "at byte 33"),
    .init(
        bytes: utf8(b(#"{"x":{"y":["#), [0xE9], b(#""]},"sender":"a","text":"b","tag":"c"}"#)),
        .invalidUTF8,
        "at byte 11"
    ),
    .init(bytes: utf8(b(#"{"se"#), [0xFF], b(#"nder":"a","text":"b","tag":"c"}"#)), .invalidUTF8, "at byte 4"),
    // Invalid UTF-8 after a JSON error still wins: the connection must be closed with 1007.
    .init(bytes: utf8(b(#"{"sender":1,]"x":""#), [0xFF], b(#""}"#)), .invalidUTF8, "at byte 18"),
    .init(
        bytes: utf8(b(#"{"n":01,"text":"b","sender":""#), [0xED, 0xA0, 0x80], b(#""}"#)),
        .invalidUTF8,
        "at byte 29"
    ),
    .init(bytes: utf8(b(#"{"sender":"\x","text":"#), [0xC0, 0x80]), .invalidUTF8, "at byte 22"),
    .init(bytes: utf8(b(#"{"sender":"\"#), [0xC3, 0x28]), .invalidUTF8, "at byte 12"),
    .init(bytes: utf8(b(#"{"sender":"\u12"#), [0xFF, 0xFF]), .invalidUTF8, "at byte 15"),
    .init(bytes: utf8(b(#"[]"#), [0x80]), .invalidUTF8, "at byte 2"),
    .init(bytes: utf8(b("[1,]  "), [0xE2, 0x82]), .invalidUTF8, "at byte 6"),
    .init(bytes: utf8([0xEF, 0xBB], b(valid)), .invalidUTF8, "at byte 0"),
    .init(bytes: utf8(b(#"{"sender":"a","text":"b","tag":"c"} "#), [0xE9]), .invalidUTF8, "at byte 36"),
    // A field rule is broken too, but invalid UTF-8 comes first.
    .init(bytes: utf8(b(#"{"sender":1,"text":"b","tag":""#), [0xFF], b(#""}"#)), .invalidUTF8, "at byte 30"),
]

@Suite("Rejected chat messages")
struct RejectedChatMessageTests {
    @Test("invalid JSON", arguments: invalidJSONCases)
    func invalidJSON(_ chatCase: ChatRejectionCase) throws {
        try check(chatCase)
    }

    @Test("valid JSON that breaks the contract", arguments: structuralCases)
    func contract(_ chatCase: ChatRejectionCase) throws {
        try check(chatCase)
    }

    @Test("invalid UTF-8, which wins over every other problem", arguments: invalidUTF8Cases)
    func invalidUTF8(_ chatCase: ChatRejectionCase) throws {
        try check(chatCase)
    }

    /// Same outcome plain and masked, and the message names the problem.
    private func check(_ chatCase: ChatRejectionCase, sourceLocation: SourceLocation = #_sourceLocation) throws {
        var first: ChatMessageRejection?
        for maskKey in maskKeys {
            let result = try rejection(validate(chatCase.input, maskKey: maskKey), sourceLocation: sourceLocation)
            #expect(result.reason == chatCase.reason, "\(result.message)", sourceLocation: sourceLocation)
            #expect(
                result.message.contains(chatCase.messageContains),
                "message was: \(result.message)",
                sourceLocation: sourceLocation
            )
            if let first { #expect(result == first, sourceLocation: sourceLocation) }
            first = result
        }
    }

    @Test("unknown values nested deeper than 64 levels are invalid JSON")
    func nestingTooDeep() throws {
        let arrays = String(repeating: "[", count: 65) + String(repeating: "]", count: 65)
        let text = #"{"sender":"a","text":"b","tag":"c","deep":"# + arrays + "}"
        let result = try rejection(validate(text))
        #expect(result.reason == .invalidJSON)
        #expect(result.message == "nesting deeper than 64 levels at byte 106")

        let objects = String(repeating: #"{"a":"#, count: 65) + "1" + String(repeating: "}", count: 65)
        let objectResult = try rejection(validate(#"{"x":"# + objects + #","sender":"a","text":"b","tag":"c"}"#))
        #expect(objectResult.reason == .invalidJSON)
        #expect(objectResult.message.contains("nesting deeper than 64 levels"))

        // A hostile depth far beyond the limit fails fast and without recursion.
        let hostile = "[" + String(repeating: "[", count: 1_000_000)
        let hostileResult = try rejection(validate(hostile))
        #expect(hostileResult.reason == .invalidJSON)
        #expect(hostileResult.message == "nesting deeper than 64 levels at byte 64")
    }

    @Test("the id is echoed when it was read before the problem")
    func idEchoedOnRejection() throws {
        let truncated = #"{"id":"req-1","sender":"a","text":"#
        let early = try rejection(validate(truncated, maskKey: 0xA1B2_C3D4))
        #expect(early.reason == .invalidJSON)
        #expect(early.id.map { tokenString($0, in: truncated) } == #""req-1""#)

        let afterError = #"{"sender":"a","text":"b",,"id":"req-2","tag":"c"}"#
        let late = try rejection(validate(afterError))
        #expect(late.reason == .invalidJSON)
        #expect(late.id == nil)

        // Field rules are decided after the whole message parsed, so an id anywhere is echoed.
        let missing = #"{"sender":"a","text":"b","id":-7.5}"#
        let missingResult = try rejection(validate(missing, maskKey: 0x0102_0304))
        #expect(missingResult.reason == .missingField)
        #expect(missingResult.id.map { tokenString($0, in: missing) } == "-7.5")

        let wrongType = #"{"sender":5,"text":"b","tag":"c","id":"x"}"#
        let wrongTypeResult = try rejection(validate(wrongType))
        #expect(wrongTypeResult.reason == .wrongType)
        #expect(wrongTypeResult.id == TokenSpan(start: 38, count: 3))

        let duplicateID = #"{"id":"first","id":"second","sender":"a","text":"b","tag":"c"}"#
        let duplicateResult = try rejection(validate(duplicateID))
        #expect(duplicateResult.reason == .duplicateField)
        #expect(duplicateResult.id.map { tokenString($0, in: duplicateID) } == #""first""#)

        let invalidID = #"{"id":[1],"sender":"a","text":"b","tag":"c"}"#
        #expect(try rejection(validate(invalidID)).id == nil)

        let badUTF8 = utf8(b(#"{"id":7,"sender":"a"#), [0xFF], b(#"","text":"b","tag":"c"}"#))
        let badUTF8Result = try rejection(validate(badUTF8))
        #expect(badUTF8Result.reason == .invalidUTF8)
        #expect(badUTF8Result.id == TokenSpan(start: 6, count: 1))
    }

    @Test("rejection reasons carry the wire names the gateway sends")
    func reasonNames() {
        #expect(ChatMessageRejection.Reason.invalidUTF8.rawValue == "invalid_utf8")
        #expect(ChatMessageRejection.Reason.invalidJSON.rawValue == "invalid_json")
        #expect(ChatMessageRejection.Reason.notAnObject.rawValue == "not_an_object")
        #expect(ChatMessageRejection.Reason.missingField.rawValue == "missing_field")
        #expect(ChatMessageRejection.Reason.wrongType.rawValue == "wrong_type")
        #expect(ChatMessageRejection.Reason.duplicateField.rawValue == "duplicate_field")
        #expect(ChatMessageRejection.Reason.invalidID.rawValue == "invalid_id")
    }
}

// MARK: - String decoding

@Suite("JSON string decoding")
struct JSONStringDecodingTests {
    private func decode(_ token: String) -> String {
        let content = Array(token.utf8).withUnsafeBytes { JSONStringDecoding.decodedContent(ofToken: $0) }
        return String(decoding: content, as: UTF8.self)
    }

    @Test("escapes are resolved, surrogate pairs joined, other bytes kept")
    func escapes() {
        #expect(decode(#""""#) == "")
        #expect(decode(#""plain ü""#) == "plain ü")
        #expect(decode(#""\"\\\/\b\f\n\r\t""#) == "\"\\/\u{8}\u{C}\n\r\t")
        #expect(decode(#""\u0041\u00E9\u20ac\uD83D\uDE00\u0000""#) == "Aé€😀\u{0}")
    }

    @Test("malformed tokens decode best-effort without trapping")
    func malformed() {
        #expect(decode(#""\uD800x""#) == "\u{FFFD}x")
        #expect(decode(#""\q\u12""#) == #"\q\u12"#)
        #expect(decode(#""\"#) == #""\"#)
        #expect(decode("") == "")
        #expect(decode("noquotes") == "noquotes")
    }
}

// MARK: - Properties

/// Builds random valid messages, returning the bytes and the decoded field values.
private struct MessageGenerator {
    var random: SeededGenerator

    mutating func whitespace() -> String {
        let pieces = ["", "", "", " ", "\n", "\t", "\r\n", "  "]
        return pieces.randomElement(using: &random)!
    }

    /// A JSON string token and the text it stands for.
    mutating func string(maxLength: Int = 24) -> (token: String, value: String) {
        let length = Int.random(in: 0...maxLength, using: &random)
        var token = "\""
        var value = ""
        for _ in 0..<length {
            switch Int.random(in: 0..<12, using: &random) {
            case 0:
                let (escape, character) = [
                    ("\\\"", "\""), ("\\\\", "\\"), ("\\/", "/"), ("\\n", "\n"), ("\\t", "\t"), ("\\b", "\u{8}"),
                    ("\\f", "\u{C}"), ("\\r", "\r"),
                ].randomElement(using: &random)!
                token += escape
                value += character
            case 1:
                let scalar = Unicode.Scalar(UInt32.random(in: 0...0xD7FF, using: &random))!
                token +=
                    "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count)
                    + String(scalar.value, radix: 16)
                value.unicodeScalars.append(scalar)
            case 2:
                let scalar = Unicode.Scalar(UInt32.random(in: 0x10000...0x10FFFF, using: &random))!
                let high = 0xD800 + ((scalar.value - 0x10000) >> 10)
                let low = 0xDC00 + ((scalar.value - 0x10000) & 0x3FF)
                token += "\\u" + String(high, radix: 16, uppercase: true) + "\\u" + String(low, radix: 16)
                value.unicodeScalars.append(scalar)
            case 3:
                let ranges: [ClosedRange<UInt32>] = [0x80...0x7FF, 0x800...0xD7FF, 0xE000...0xFFFD, 0x10000...0x10FFFF]
                let scalar = Unicode.Scalar(UInt32.random(in: ranges.randomElement(using: &random)!, using: &random))!
                token.unicodeScalars.append(scalar)
                value.unicodeScalars.append(scalar)
            default:
                let scalar = Unicode.Scalar(UInt8.random(in: 0x20...0x7E, using: &random))
                if scalar == "\"" || scalar == "\\" { continue }
                token.unicodeScalars.append(scalar)
                value.unicodeScalars.append(scalar)
            }
        }
        return (token + "\"", value)
    }

    mutating func number() -> String {
        var number = Bool.random(using: &random) ? "-" : ""
        number += Bool.random(using: &random) ? "0" : String(Int.random(in: 1...999_999, using: &random))
        if Bool.random(using: &random) { number += "." + String(Int.random(in: 0...9999, using: &random)) }
        if Bool.random(using: &random) {
            number +=
                ["e", "E"].randomElement(using: &random)! + ["", "+", "-"].randomElement(using: &random)!
                + String(Int.random(in: 0...300, using: &random))
        }
        return number
    }

    mutating func anyValue(depth: Int = 0) -> String {
        switch Int.random(in: 0..<(depth > 4 ? 6 : 8), using: &random) {
        case 0, 1: return string().token
        case 2: return number()
        case 3: return "true"
        case 4: return "false"
        case 5: return "null"
        case 6:
            let count = Int.random(in: 0...3, using: &random)
            return "["
                + (0..<count).map { _ in whitespace() + anyValue(depth: depth + 1) + whitespace() }.joined(
                    separator: ","
                ) + "]"
        default:
            let count = Int.random(in: 0...3, using: &random)
            let members = (0..<count).map { _ in
                whitespace() + string(maxLength: 6).token + whitespace() + ":" + whitespace()
                    + anyValue(depth: depth + 1) + whitespace()
            }
            return "{" + members.joined(separator: ",") + "}"
        }
    }

    /// Escapes every byte of an ASCII key as `\uXXXX` or leaves it, at random.
    mutating func key(_ name: String) -> String {
        guard Int.random(in: 0..<4, using: &random) == 0 else { return "\"" + name + "\"" }
        return "\""
            + name.unicodeScalars.map { scalar in
                Bool.random(using: &random) ? "\\u00" + String(scalar.value, radix: 16) : String(scalar)
            }.joined() + "\""
    }

    struct Generated {
        var bytes: [UInt8]
        var sender: String
        var text: String
        var tag: String
        var id: String?
    }

    mutating func message() -> Generated {
        let sender = string()
        let text = string(maxLength: 80)
        let tag = string(maxLength: 10)
        var members = [
            key("sender") + whitespace() + ":" + whitespace() + sender.token,
            key("text") + ":" + whitespace() + text.token,
            key("tag") + whitespace() + ":" + tag.token,
        ]
        var id: String?
        if Bool.random(using: &random) {
            id = Bool.random(using: &random) ? string(maxLength: 20).token : number()
            members.append(key("id") + ":" + id!)
        }
        let unknownKeys = ["x", "senders", "Text", "meta", "ID", "tags", ""]
        for _ in 0..<Int.random(in: 0...3, using: &random) {
            members.append("\"" + unknownKeys.randomElement(using: &random)! + "\":" + whitespace() + anyValue())
        }
        members.shuffle(using: &random)
        let json =
            whitespace() + "{" + members.map { whitespace() + $0 + whitespace() }.joined(separator: ",") + "}"
            + whitespace()
        return Generated(bytes: Array(json.utf8), sender: sender.value, text: text.value, tag: tag.value, id: id)
    }
}

/// A deliberately naive recursive RFC 8259 grammar check (no depth limit, bytes ≥ 0x80 taken as
/// string content), used as an independent oracle for the validator's invalid_json decisions.
private struct ReferenceJSON {
    let bytes: [UInt8]
    var i = 0

    static func isValid(_ bytes: [UInt8]) -> Bool {
        var parser = ReferenceJSON(bytes: bytes)
        parser.whitespace()
        guard parser.value() else { return false }
        parser.whitespace()
        return parser.i == bytes.count
    }

    private var current: UInt8? { i < bytes.count ? bytes[i] : nil }

    private mutating func whitespace() {
        while let c = current, c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D { i += 1 }
    }

    private mutating func eat(_ c: Character) -> Bool {
        guard current == c.asciiValue else { return false }
        i += 1
        return true
    }

    private mutating func value() -> Bool {
        switch current {
        case UInt8(ascii: "{"):
            i += 1
            whitespace()
            if eat("}") { return true }
            repeat {
                whitespace()
                guard current == UInt8(ascii: "\""), string() else { return false }
                whitespace()
                guard eat(":") else { return false }
                whitespace()
                guard value() else { return false }
                whitespace()
            } while eat(",")
            return eat("}")
        case UInt8(ascii: "["):
            i += 1
            whitespace()
            if eat("]") { return true }
            repeat {
                whitespace()
                guard value() else { return false }
                whitespace()
            } while eat(",")
            return eat("]")
        case UInt8(ascii: "\""): return string()
        case UInt8(ascii: "t"): return literal("true")
        case UInt8(ascii: "f"): return literal("false")
        case UInt8(ascii: "n"): return literal("null")
        case .some(let c) where c == UInt8(ascii: "-") || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")):
            return number()
        default: return false
        }
    }

    private mutating func literal(_ word: String) -> Bool {
        let expected = Array(word.utf8)
        guard bytes.count - i >= expected.count, Array(bytes[i..<i + expected.count]) == expected else { return false }
        i += expected.count
        return true
    }

    private mutating func digits() -> Int {
        let start = i
        while let c = current, c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") { i += 1 }
        return i - start
    }

    private mutating func number() -> Bool {
        _ = eat("-")
        if eat("0") {
            // a single zero
        } else if let c = current, c >= UInt8(ascii: "1"), c <= UInt8(ascii: "9") {
            _ = digits()
        } else {
            return false
        }
        if eat("."), digits() == 0 { return false }
        if eat("e") || eat("E") {
            if !eat("+") { _ = eat("-") }
            if digits() == 0 { return false }
        }
        return true
    }

    private mutating func hex4() -> UInt32? {
        guard bytes.count - i >= 4 else { return nil }
        let text = String(decoding: bytes[i..<i + 4], as: UTF8.self)
        guard text.utf8.allSatisfy({ $0 < 0x80 }), let value = UInt32(text, radix: 16), !text.hasPrefix("+"),
            !text.hasPrefix("-")
        else { return nil }
        i += 4
        return value
    }

    private mutating func string() -> Bool {
        i += 1
        while let c = current {
            i += 1
            switch c {
            case UInt8(ascii: "\""): return true
            case 0..<0x20: return false
            case UInt8(ascii: "\\"):
                guard let e = current else { return false }
                i += 1
                switch e {
                case UInt8(ascii: "u"):
                    guard let unit = hex4() else { return false }
                    if (0xDC00...0xDFFF).contains(unit) { return false }
                    if (0xD800...0xDBFF).contains(unit) {
                        guard eat("\\"), eat("u"), let low = hex4(), (0xDC00...0xDFFF).contains(low) else {
                            return false
                        }
                    }
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                    UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    break
                default: return false
                }
            default: break
            }
        }
        return false
    }
}

@Suite("Properties")
struct ChatMessagePropertyTests {
    @Test("random valid messages validate, and their canonical record re-validates with the same tokens")
    func roundTrip() throws {
        var generator = MessageGenerator(random: SeededGenerator(seed: 0xC0FF_EE00))
        for round in 0..<3000 {
            let generated = generator.message()
            let maskKey = round % 3 == 0 ? 0 : UInt32(truncatingIfNeeded: generator.random.next())
            let message = try accepted(validate(generated.bytes, maskKey: maskKey))
            #expect(decoded(message.sender, in: generated.bytes) == generated.sender)
            #expect(decoded(message.text, in: generated.bytes) == generated.text)
            #expect(decoded(message.tag, in: generated.bytes) == generated.tag)
            #expect(message.id.map { String(decoding: token($0, in: generated.bytes), as: UTF8.self) } == generated.id)

            let output = canonical(message, plain: generated.bytes, maskKey: maskKey)
            #expect(output.count <= generated.bytes.count)
            let again = try accepted(validate(output, maskKey: UInt32(truncatingIfNeeded: round &* 2_654_435_761)))
            #expect(token(again.sender, in: output) == token(message.sender, in: generated.bytes))
            #expect(token(again.text, in: output) == token(message.text, in: generated.bytes))
            #expect(token(again.tag, in: output) == token(message.tag, in: generated.bytes))
            #expect(again.id == nil)

            // Cutting the object short anywhere before its closing brace makes it invalid JSON.
            let closing = generated.bytes.lastIndex(of: UInt8(ascii: "}"))!
            let cut = Int.random(in: 0..<closing, using: &generator.random)
            let prefix = Array(generated.bytes[..<cut])
            let truncated = try rejection(validate(prefix, maskKey: maskKey))
            let splitsCharacter = String(validating: prefix, as: UTF8.self) == nil
            #expect(truncated.reason == (splitsCharacter ? .invalidUTF8 : .invalidJSON), "\(truncated.message)")
        }
    }

    @Test("random bytes never crash, mask keys never change the outcome, and invalid UTF-8 is always named")
    func randomBytes() throws {
        var random = SeededGenerator(seed: 42)
        let alphabet =
            Array(#"{}[]":,\ -+.0123456789eEtruefalsnu"#.utf8) + [
                0x0A, 0x09, 0x01, 0xC3, 0xA9, 0xE2, 0x82, 0xAC, 0xF0, 0x9F, 0x98, 0x80, 0xED, 0xA0, 0xFF, 0xC0,
            ]
        var generator = MessageGenerator(random: SeededGenerator(seed: 7))
        var validJSONSeen = 0
        for round in 0..<20_000 {
            var bytes: [UInt8]
            switch round % 3 {
            case 0:
                bytes = (0..<Int.random(in: 0...64, using: &random)).map { _ in
                    UInt8.random(in: 0...255, using: &random)
                }
            case 1:
                bytes = (0..<Int.random(in: 0...64, using: &random)).map { _ in alphabet.randomElement(using: &random)!
                }
            default:
                // A valid message with a few random byte flips.
                bytes = generator.message().bytes
                for _ in 0..<Int.random(in: 1...3, using: &random) {
                    bytes[Int.random(in: 0..<bytes.count, using: &random)] = alphabet.randomElement(using: &random)!
                }
            }
            let plain = validate(bytes)
            let maskKey = UInt32.random(in: 1...UInt32.max, using: &random)
            #expect(validate(bytes, maskKey: maskKey) == plain)

            let isValidUTF8 = String(validating: bytes, as: UTF8.self) != nil
            let isValidJSON = ReferenceJSON.isValid(bytes)
            if case .failure(let rejection) = plain {
                #expect((rejection.reason == .invalidUTF8) == !isValidUTF8, "\(rejection.message)")
                if isValidUTF8 {
                    #expect((rejection.reason == .invalidJSON) == !isValidJSON, "\(rejection.message)")
                }
                if let id = rejection.id { #expect(id.start >= 0 && id.end <= bytes.count) }
            } else {
                #expect(isValidUTF8 && isValidJSON)
            }
            if isValidUTF8 && isValidJSON { validJSONSeen += 1 }
        }
        // The oracle comparison only means something if both outcomes occur often.
        #expect(validJSONSeen > 500)
    }
}

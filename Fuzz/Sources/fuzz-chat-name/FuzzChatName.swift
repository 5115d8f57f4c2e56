import ChatContract
import FuzzSupport
import NIOHTTP1

@testable import Gateway

/// Fuzz target: the request URI of a WebSocket handshake → `HandshakeClassifier.classify`, the function
/// the upgrader and the HTTP handler both call: path routing, percent-decoding of the chat name,
/// `TopicName.forChat`, and the `ack` query parameter.
///
/// Input: the URI. One that does not start with `/` is taken as a chat name and put after
/// `/send-message/chat/`, so most of the fuzzing goes into chat names. The request is otherwise a valid
/// handshake (GET, HTTP/1.1, Upgrade, version 13, a good key), so the URI alone decides.
///
/// Checks, against `expectedRoute` (docs/protocol.md's handshake rules written out over bytes):
/// - whatever is accepted as a WebSocket target is a legal Kafka topic (`kafka.chat.` + only
///   `A-Z a-z 0-9 . _ -`, at most 249 characters) and is what the reference expects, acks included;
/// - for an ASCII URI, every answer (route, or status and error code) is the reference's; with non-ASCII
///   bytes the classifier may differ where Swift's grapheme-cluster comparison makes `?`, `/`, `&` or `=`
///   followed by a combining mark a different character: it may then refuse, or ignore a query parameter,
///   but an accepted topic must still be the reference's for the path;
/// - `percentDecoded` agrees with an independent decoder on ASCII segments;
/// - nothing traps (error messages are built from arbitrary scalars).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzChatName(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let raw = Array(UnsafeRawBufferPointer(start: data, count: size))
    let uriBytes = raw.first == UInt8(ascii: "/") ? raw : Array(HandshakeClassifier.chatPrefix.utf8) + raw
    // NIO's HTTP parser hands the URI over as a String decoded this way.
    let uri = String(decoding: uriBytes, as: UTF8.self)
    let bytes = Array(uri.utf8)
    var headers = HTTPHeaders()
    headers.add(name: "Host", value: "localhost")
    headers.add(name: "Upgrade", value: "websocket")
    headers.add(name: "Connection", value: "Upgrade")
    headers.add(name: "Sec-WebSocket-Version", value: "13")
    headers.add(name: "Sec-WebSocket-Key", value: "dGhlIHNhbXBsZSBub25jZQ==")
    let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: uri, headers: headers)

    let actual: Answer
    switch HandshakeClassifier.classify(head) {
    case .success(.health): actual = .route("health")
    case .success(.ready): actual = .route("ready")
    case .success(.metrics): actual = .route("metrics")
    case .success(.docs): actual = .route("docs")
    case .success(.asyncAPI): actual = .route("asyncapi.json")
    case .success(.movedPermanently(let location)): actual = .route("moved to \(location)")
    case .success(.webSocket(let target)):
        checkLegalTopic(target.topic.value, uri: bytes)
        actual = .webSocket(topic: target.topic.value, acks: target.wantsAcks)
    case .failure(let rejection):
        fuzzCheck(!rejection.message.isEmpty, "rejection without a message", input: bytes)
        actual = .rejected(status: rejection.status.code, code: rejection.code.label)
    }

    let expected = expectedRoute(bytes)
    let isASCII = bytes.allSatisfy { $0 < 0x80 }
    if isASCII {
        fuzzCheck(actual == expected, "classified as \(actual), the reference says \(expected)", input: bytes)
    } else {
        switch actual {
        case .route:
            fuzzCheck(actual == expected, "classified as \(actual), the reference says \(expected)", input: bytes)
        case .webSocket(let topic, _):
            // Non-ASCII can only be in the query here (the topic is checked legal above). The classifier
            // splits the query by grapheme cluster, so `=` or `&` followed by a combining mark does not
            // separate: `?ack=\u{301}x` is an unknown parameter to it, not a bad ack value. The topic must
            // still be the reference's for the path alone.
            let path = Array(bytes.prefix { $0 != UInt8(ascii: "?") })
            let expectedTopic = expectedRoute(path)
            fuzzCheck(
                expectedTopic == .webSocket(topic: topic, acks: false),
                "classified as \(actual), the reference says \(expected) (\(expectedTopic) for the path alone)",
                input: bytes
            )
        case .rejected:
            break  // refusing a URI with non-ASCII in it is always acceptable
        }
    }

    // The decoder alone, on the chat segment of the URI.
    if isASCII, let segment = chatSegment(bytes) {
        let decoded = HandshakeClassifier.percentDecoded(Substring(String(decoding: segment, as: UTF8.self)))
        let reference = percentDecode(segment).map { String(decoding: $0, as: UTF8.self) }
        fuzzCheck(
            decoded.map { Array($0.utf8) } == reference.map { Array($0.utf8) },
            "percentDecoded gives \(String(describing: decoded)), the reference \(String(describing: reference))",
            input: bytes
        )
    }
    return 0
}

enum Answer: Equatable {
    case route(String)
    case webSocket(topic: String, acks: Bool)
    case rejected(status: UInt, code: String)
}

private let chatPrefix = Array("/send-message/chat/".utf8)

/// Kafka's rules for a topic name, and the daemon's prefix.
private func checkLegalTopic(_ topic: String, uri: [UInt8]) {
    let bytes = Array(topic.utf8)
    let prefix = Array("kafka.chat.".utf8)
    fuzzCheck(
        bytes.count <= 249 && bytes.count > prefix.count && bytes.starts(with: prefix)
            && bytes.allSatisfy(isTopicByte) && topic != "." && topic != "..",
        "accepted an illegal topic \(topic.debugDescription)",
        input: uri
    )
}

private func isTopicByte(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
        UInt8(ascii: "0")...UInt8(ascii: "9"),
        UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
        true
    default:
        false
    }
}

/// The path part of a chat URI after the prefix, if the URI is one.
private func chatSegment(_ uri: [UInt8]) -> [UInt8]? {
    let path =
        uri.split(separator: UInt8(ascii: "?"), maxSplits: 1, omittingEmptySubsequences: false).first.map(Array.init)
        ?? []
    guard path.starts(with: chatPrefix) else { return nil }
    return Array(path[chatPrefix.count...])
}

/// RFC 3986 percent-decoding; nil when a `%` is not followed by two hex digits.
private func percentDecode(_ segment: [UInt8]) -> [UInt8]? {
    func hex(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
    var out: [UInt8] = []
    var index = 0
    while index < segment.count {
        if segment[index] == UInt8(ascii: "%") {
            guard index + 2 < segment.count, let high = hex(segment[index + 1]), let low = hex(segment[index + 2])
            else {
                return nil
            }
            out.append(high << 4 | low)
            index += 3
        } else {
            out.append(segment[index])
            index += 1
        }
    }
    return out
}

/// The handshake rules of docs/protocol.md for the URI of an otherwise valid GET upgrade request, over bytes.
private func expectedRoute(_ uri: [UInt8]) -> Answer {
    let parts = uri.split(separator: UInt8(ascii: "?"), maxSplits: 1, omittingEmptySubsequences: false)
    let path = Array(parts[0])
    let query = parts.count > 1 ? Array(parts[1]) : []
    for route in ["health", "ready", "metrics", "docs", "asyncapi.json"] where path == Array("/\(route)".utf8) {
        return .route(route)
    }
    for (old, new) in [
        ("/redoc", "/docs"), ("/docs/", "/docs"), ("/docs/oauth2-redirect", "/docs"),
        ("/openapi.json", "/asyncapi.json"),
    ]
    where path == Array(old.utf8) {
        return .route("moved to \(new)")
    }
    let topic: String
    if path == Array("/send-message/global".utf8) {
        topic = "kafka.chat.global"
    } else if path.starts(with: chatPrefix) {
        let segment = Array(path[chatPrefix.count...])
        if segment.contains(UInt8(ascii: "/")) { return .rejected(status: 404, code: "not_found") }
        guard let chat = percentDecode(segment) else { return .rejected(status: 400, code: "invalid_chat") }
        // Decoded bytes that are not UTF-8 become U+FFFD, which is not allowed either.
        // `.` and `..` are URL dot-segments (RFC 3986 §5.2.4): refused like any other bad name.
        guard !chat.isEmpty, chat.count <= 249 - 11, chat.allSatisfy(isTopicByte),
            chat != Array(".".utf8), chat != Array("..".utf8)
        else {
            return .rejected(status: 400, code: "invalid_chat")
        }
        topic = "kafka.chat." + String(decoding: chat, as: UTF8.self)
    } else {
        return .rejected(status: 404, code: "not_found")
    }
    var acks = false
    for parameter in query.split(separator: UInt8(ascii: "&")) {
        let pair = parameter.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
        guard Array(pair[0]) == Array("ack".utf8) else { continue }
        switch pair.count > 1 ? String(decoding: pair[1], as: UTF8.self) : "" {
        case "1", "true", "yes": acks = true
        case "0", "false", "no": acks = false
        default: return .rejected(status: 400, code: "invalid_query")
        }
    }
    return .webSocket(topic: topic, acks: acks)
}

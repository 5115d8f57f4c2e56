import Access
import ChatContract
import Ingest
import Monitoring
import NIOHTTP1

/// Decides what an HTTP request is for, and rejects a bad WebSocket handshake with the exact reason,
/// before any upgrade happens. The upgrader and the plain HTTP handler both ask it, so a request is
/// judged the same way whichever of them sees it.
enum HandshakeClassifier {
    enum Route: Equatable {
        case health
        case ready
        case metrics
        /// The `/docs` page.
        case docs
        /// The AsyncAPI document.
        case asyncAPI
        /// The JavaScript client, which the `/docs` console imports.
        case clientModule
        /// A path of the old service's API docs, moved permanently.
        case movedPermanently(to: String)
        case webSocket(WebSocketTarget)
    }

    /// The old FastAPI service's documentation paths (ReDoc, Swagger UI's OAuth helper, the OpenAPI
    /// document) and where they live now.
    static let movedPaths: [Substring: String] = [
        "/docs/": "/docs",
        "/redoc": "/docs",
        "/docs/oauth2-redirect": "/docs",
        "/openapi.json": "/asyncapi.json",
    ]

    static let clientModulePath: Substring = "/docs/kafka-chat-producer-client.js"
    static let globalPath = "/send-message/global"
    static let chatPrefix = "/send-message/chat/"

    static func classify(_ head: HTTPRequestHead) -> Result<Route, HTTPRejection> {
        let (path, query) = self.split(head.uri)
        switch path {
        case "/health", "/ready", "/metrics", "/docs", "/asyncapi.json", self.clientModulePath:
            guard head.method == .GET || head.method == .HEAD else { return .failure(self.methodNotAllowed(path)) }
            switch path {
            case "/health": return .success(.health)
            case "/ready": return .success(.ready)
            case "/metrics": return .success(.metrics)
            case "/docs": return .success(.docs)
            case self.clientModulePath: return .success(.clientModule)
            default: return .success(.asyncAPI)
            }
        default:
            if let location = self.movedPaths[path] {
                guard head.method == .GET || head.method == .HEAD else { return .failure(self.methodNotAllowed(path)) }
                return .success(.movedPermanently(to: location))
            }
        }

        let topic: TopicName
        if path == self.globalPath {
            topic = .global
        } else if path.hasPrefix(self.chatPrefix) {
            let encoded = path.dropFirst(self.chatPrefix.utf8.count)
            if encoded.contains("/") {
                return .failure(.notFound(path))
            }
            guard let chat = self.percentDecoded(encoded) else {
                return .failure(
                    HTTPRejection(
                        status: .badRequest,
                        code: .invalidChat,
                        message: "chat name has a malformed percent-escape"
                    )
                )
            }
            do {
                topic = try TopicName.forChat(Substring(chat))
            } catch {
                return .failure(HTTPRejection(status: .badRequest, code: .invalidChat, message: error.message))
            }
        } else {
            return .failure(.notFound(path))
        }

        guard head.method == .GET else { return .failure(self.methodNotAllowed(path)) }
        guard head.version.major == 1 && head.version.minor >= 1 || head.version.major > 1 else {
            return .failure(
                HTTPRejection(status: .badRequest, code: .badHandshake, message: "WebSocket needs HTTP/1.1")
            )
        }
        let upgrade = head.headers[canonicalForm: "upgrade"].map { $0.lowercased() }
        let connection = head.headers[canonicalForm: "connection"].map { $0.lowercased() }
        guard upgrade.contains("websocket"), connection.contains("upgrade") else {
            return .failure(
                HTTPRejection(
                    status: .upgradeRequired,
                    code: .upgradeRequired,
                    message: "\(path) is a WebSocket endpoint: send Connection: Upgrade and Upgrade: websocket",
                    headers: [("Upgrade", "websocket"), ("Sec-WebSocket-Version", "13")]
                )
            )
        }
        let versions = head.headers[canonicalForm: "sec-websocket-version"]
        guard versions.count == 1, versions[0] == "13" else {
            return .failure(
                HTTPRejection(
                    status: .upgradeRequired,
                    code: .unsupportedWebSocketVersion,
                    message: "only WebSocket version 13 is supported",
                    headers: [("Sec-WebSocket-Version", "13")]
                )
            )
        }
        let keys = head.headers["sec-websocket-key"]
        guard keys.count == 1, self.isValidKey(keys[0]) else {
            return .failure(
                HTTPRejection(
                    status: .badRequest,
                    code: .badHandshake,
                    message: "Sec-WebSocket-Key must be the base64 form of 16 bytes"
                )
            )
        }

        var wantsAcks = false
        for parameter in query.split(separator: "&") {
            let parts = parameter.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.first == "ack" else { continue }
            switch parts.count > 1 ? parts[1] : "" {
            case "1", "true", "yes": wantsAcks = true
            case "0", "false", "no": wantsAcks = false
            default:
                return .failure(HTTPRejection(status: .badRequest, code: .invalidQuery, message: "ack must be 1 or 0"))
            }
        }
        return .success(.webSocket(WebSocketTarget(topic: topic, wantsAcks: wantsAcks)))
    }

    private static func methodNotAllowed(_ path: Substring) -> HTTPRejection {
        HTTPRejection(
            status: .methodNotAllowed,
            code: .methodNotAllowed,
            message: "\(path) only answers GET",
            headers: [("Allow", "GET")]
        )
    }

    static func split(_ uri: String) -> (path: Substring, query: Substring) {
        guard let mark = uri.firstIndex(of: "?") else { return (uri[...], "") }
        return (uri[..<mark], uri[uri.index(after: mark)...])
    }

    /// One path segment, percent-decoded; nil on a malformed escape.
    static func percentDecoded(_ segment: Substring) -> String? {
        PercentDecoding.decode(segment)
    }

    /// 16 random bytes in base64 are 24 characters: 22 from the alphabet and "==".
    private static func isValidKey(_ key: String) -> Bool {
        let utf8 = Array(key.utf8)
        guard utf8.count == 24, utf8[22] == UInt8(ascii: "="), utf8[23] == UInt8(ascii: "=") else { return false }
        return utf8[..<22].allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "+"), UInt8(ascii: "/"):
                return true
            default:
                return false
            }
        }
    }
}

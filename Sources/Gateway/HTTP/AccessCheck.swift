import Access
import ChatContract
import Ingest
import Logging
import Monitoring
import NIOHTTP1

extension GatewayContext {
    /// The access checks of a WebSocket handshake (Origin, bearer token, chat), once per connection.
    /// A refusal becomes a 401 or 403 with a JSON reason and one log line that names the reason, the
    /// chat, the client and at most the token's fingerprint — never the token. When allowed, `target`
    /// keeps the grant (its expiry, and for reloads the credential).
    func accessRefusal(
        _ head: HTTPRequestHead,
        target: inout WebSocketTarget,
        client: ClientAddress?
    ) -> HTTPRejection? {
        let chat = String(target.chat)
        switch self.settings.access.authorize(uri: head.uri, headers: head.headers, chat: chat) {
        case .allowed(nil):
            return nil
        case .allowed(let grant?):
            target.grant = grant
            self.logger.debug(
                "websocket handshake authorized",
                metadata: [
                    "chat": "\(chat)", "client": "\(client.map { "\($0)" } ?? "unknown")",
                    "credential": "\(grant.kind.rawValue) \(grant.fingerprint)", "subject": "\(grant.subject ?? "")",
                ]
            )
            return nil
        case .refused(let refusal):
            var metadata: Logger.Metadata = [
                "reason": "\(refusal.code)", "detail": "\(refusal.detail)", "chat": "\(chat)",
                "client": "\(client.map { "\($0)" } ?? "unknown")",
            ]
            if let fingerprint = refusal.fingerprint { metadata["credential"] = "\(fingerprint)" }
            if refusal.reason == .originNotAllowed, let origin = head.headers.first(name: "origin") {
                metadata["origin"] = "\(origin.prefix(200))"
            }
            self.logger.notice("websocket handshake refused", metadata: metadata)
            return HTTPRejection(
                status: HTTPResponseStatus(statusCode: refusal.status),
                code: ConnectionRejection(refusal.reason),
                message: refusal.message,
                headers: refusal.challenge.map { [("WWW-Authenticate", $0)] } ?? []
            )
        }
    }
}

extension ConnectionRejection {
    /// The rejection an access refusal is answered and counted as.
    init(_ reason: AccessRefusal.Reason) {
        switch reason {
        case .unauthorized: self = .unauthorized
        case .forbidden: self = .forbidden
        case .originNotAllowed: self = .originNotAllowed
        }
    }
}

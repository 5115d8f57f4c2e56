import Monitoring
import NIOHTTP1

/// An HTTP error answer: status, a JSON body with a reason, and any header the status calls for.
struct HTTPRejection: Error, Sendable, Equatable {
    var status: HTTPResponseStatus
    /// The JSON `code` of the answer and the `kcp_connections_rejected_total` reason.
    var code: ConnectionRejection
    var message: String
    var headers: [(String, String)] = []

    static func == (lhs: HTTPRejection, rhs: HTTPRejection) -> Bool {
        lhs.status == rhs.status && lhs.code == rhs.code && lhs.message == rhs.message
    }

    static func notFound(_ path: Substring) -> HTTPRejection {
        HTTPRejection(
            status: .notFound,
            code: .notFound,
            message:
                "no endpoint at \(path); WebSocket endpoints are /send-message/global and /send-message/chat/{chat}"
        )
    }
}

/// A handshake the access checks turned away, with everything the HTTP answer and the log need.
public struct AccessRefusal: Sendable, Equatable {
    public enum Reason: String, Sendable {
        /// 401: no usable credential.
        case unauthorized
        /// 403: a valid credential that may not write to this chat.
        case forbidden
        /// 403: a browser page from an origin not in `http.allowed_origins`.
        case originNotAllowed = "origin_not_allowed"
    }

    public let reason: Reason
    /// For the client's JSON body.
    public let message: String
    /// Stable detail for the log (`expired`, `bad_signature`, `chat_not_allowed`, …).
    public let detail: String
    /// `WWW-Authenticate` value, for 401 and 403 caused by a token.
    public let challenge: String?
    /// `sha256:…` of the token presented, if any: the log's only trace of it.
    public let fingerprint: String?

    public var status: Int { self.reason == .unauthorized ? 401 : 403 }

    /// The `reason` label value of `kcp_connections_rejected_total` and the JSON `code`.
    public var code: String { self.reason.rawValue }
}

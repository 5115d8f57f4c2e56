/// Why a handshake's credentials were not accepted (HTTP 401). `detail` names it in the log,
/// `message` tells the client, which may learn that its token expired but not
/// which secret check failed.
public enum TokenFailure: Error, Sendable, Equatable {
    case missing
    case ambiguous
    case notBearer
    case malformed
    case unknownToken
    case unsupportedAlgorithm
    case badSignature
    case missingExpiry
    case expired
    case notYetValid
    case wrongAudience
    case wrongIssuer

    /// Stable snake_case name for logs.
    public var detail: String {
        switch self {
        case .missing: "missing_token"
        case .ambiguous: "ambiguous_token"
        case .notBearer: "not_bearer"
        case .malformed: "malformed_token"
        case .unknownToken: "unknown_token"
        case .unsupportedAlgorithm: "unsupported_algorithm"
        case .badSignature: "bad_signature"
        case .missingExpiry: "missing_exp"
        case .expired: "expired"
        case .notYetValid: "not_yet_valid"
        case .wrongAudience: "wrong_audience"
        case .wrongIssuer: "wrong_issuer"
        }
    }

    /// For the client (the JSON body and `error_description`).
    public var message: String {
        switch self {
        case .missing: "a bearer token is required: send Authorization: Bearer <token> or ?access_token=<token>"
        case .ambiguous: "send the token once: in one Authorization header or in access_token, not both"
        case .notBearer: "the Authorization header must use the Bearer scheme"
        case .expired: "the token has expired"
        case .notYetValid: "the token is not valid yet"
        case .missingExpiry: "the token has no exp claim"
        case .malformed, .unknownToken, .unsupportedAlgorithm, .badSignature, .wrongAudience, .wrongIssuer:
            "the token is not valid"
        }
    }

    /// The `WWW-Authenticate` value (RFC 6750 §3): no error code when no credentials were sent.
    public var challenge: String {
        switch self {
        case .missing: #"Bearer realm="kafka-chat-producer""#
        case .ambiguous, .notBearer:
            #"Bearer realm="kafka-chat-producer", error="invalid_request", error_description="\#(self.message)""#
        default: #"Bearer realm="kafka-chat-producer", error="invalid_token", error_description="\#(self.message)""#
        }
    }
}

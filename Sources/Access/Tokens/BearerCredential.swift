import Foundation
import NIOHTTP1

/// Finds the bearer token of a handshake: `Authorization: Bearer …` (RFC 6750 §2.1) or the
/// `access_token` query parameter (§2.3), which is the only way a browser's `WebSocket` can send one.
public enum BearerCredential {
    /// Longest token looked at; anything longer is refused before it is hashed or parsed.
    public static let maxLength = 8192

    /// nil when the handshake carries no token.
    public static func find(uri: String, headers: HTTPHeaders) -> Result<String?, TokenFailure> {
        var found: String?
        let authorizations = headers["authorization"]
        if authorizations.count > 1 { return .failure(.ambiguous) }
        if let authorization = authorizations.first {
            let parts = authorization.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, parts[0].lowercased() == "bearer" else { return .failure(.notBearer) }
            found = parts[1].trimmingCharacters(in: .whitespaces)
        }
        if let mark = uri.firstIndex(of: "?") {
            for parameter in uri[uri.index(after: mark)...].split(separator: "&") {
                let parts = parameter.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard parts[0] == "access_token" else { continue }
                if found != nil { return .failure(.ambiguous) }
                guard parts.count == 2, let value = PercentDecoding.decode(parts[1]) else {
                    return .failure(.malformed)
                }
                found = value
            }
        }
        guard let token = found else { return .success(nil) }
        guard !token.isEmpty, token.utf8.count <= self.maxLength else { return .failure(.malformed) }
        return .success(token)
    }

    /// RFC 6750's `b64token`: `A-Z a-z 0-9 - . _ ~ + /`, then any number of `=`.
    public static func isToken(_ text: some StringProtocol) -> Bool {
        var sawPadding = false
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "="):
                sawPadding = true
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"), UInt8(ascii: "+"),
                UInt8(ascii: "/"):
                if sawPadding { return false }
            default:
                return false
            }
        }
        return !text.isEmpty
    }
}

import Foundation
import JWTKit

/// Checks a JWT synchronously, on the event loop that received the handshake: the signature with the
/// key configured for the `alg` its header names (anything else, `none` included, is refused), then
/// `exp` (required), `nbf`, `aud` (required, must include the configured audience) and `iss` (when
/// configured), with a small leeway for clock skew.
///
/// jwt-kit's `JWTKeyCollection` only verifies asynchronously, through an actor; a handshake would then
/// wait for a task on another thread while its channel could close underneath it. The collection is
/// used once, at startup, to build jwt-kit's own algorithm objects; each check then calls them
/// directly (an RS256 verification costs tens of microseconds, an HS256 one about one).
public struct JWTVerifier: Sendable {
    private let algorithms: [String: any JWTAlgorithm]
    private let parser = DefaultJWTParser()
    public let audience: String
    public let issuer: String?
    public let leeway: TimeInterval

    public static func make(
        keys: JWTKeys,
        audience: String,
        issuer: String?,
        leeway: TimeInterval
    ) async throws -> JWTVerifier {
        var algorithms: [String: any JWTAlgorithm] = [:]
        if let secret = keys.hs256 {
            let collection = JWTKeyCollection()
            await collection.add(hmac: secret, digestAlgorithm: .sha256)
            algorithms["HS256"] = try await collection.getKey()
        }
        if let key = keys.rs256 {
            let collection = JWTKeyCollection()
            await collection.add(rsa: key, digestAlgorithm: .sha256)
            algorithms["RS256"] = try await collection.getKey()
        }
        return JWTVerifier(algorithms: algorithms, audience: audience, issuer: issuer, leeway: leeway)
    }

    private init(algorithms: [String: any JWTAlgorithm], audience: String, issuer: String?, leeway: TimeInterval) {
        self.algorithms = algorithms
        self.audience = audience
        self.issuer = issuer
        self.leeway = leeway
    }

    /// The algorithms tokens may be signed with (`HS256`, `RS256`).
    public var acceptedAlgorithms: [String] { self.algorithms.keys.sorted() }

    /// True when `token` has the shape of a JWT (three dot-separated parts), so it is worth parsing.
    public static func looksLikeJWT(_ token: String) -> Bool {
        token.utf8.count(where: { $0 == UInt8(ascii: ".") }) == 2
    }

    public func verify(_ token: String, now: Date = Date()) -> Result<AccessGrant, TokenFailure> {
        let bytes = Array(token.utf8)
        let parsed: (header: JWTHeader, payload: ChatTokenClaims, signature: Data)
        do {
            parsed = try self.parser.parse(bytes, as: ChatTokenClaims.self)
        } catch {
            return .failure(.malformed)
        }
        // The key is chosen by our configuration, never by the token: an unknown or `none` alg fails here.
        guard let name = parsed.header.alg, let algorithm = self.algorithms[name] else {
            return .failure(.unsupportedAlgorithm)
        }
        // Extensions we do not understand must not be ignored (RFC 7515 §4.1.11).
        if let critical = parsed.header.crit, !critical.isEmpty { return .failure(.malformed) }
        guard let secondDot = bytes.lastIndex(of: UInt8(ascii: ".")),
            (try? algorithm.verify(parsed.signature, signs: bytes[..<secondDot])) == true
        else {
            return .failure(.badSignature)
        }

        let claims = parsed.payload
        guard let expiry = claims.exp else { return .failure(.missingExpiry) }
        guard (try? expiry.verifyNotExpired(currentDate: now.addingTimeInterval(-self.leeway))) != nil else {
            return .failure(.expired)
        }
        if let notBefore = claims.nbf,
            (try? notBefore.verifyNotBefore(currentDate: now.addingTimeInterval(self.leeway))) == nil
        {
            return .failure(.notYetValid)
        }
        guard let audience = claims.aud, audience.value.contains(self.audience) else { return .failure(.wrongAudience) }
        if let issuer = self.issuer, claims.iss?.value != issuer { return .failure(.wrongIssuer) }
        return .success(
            AccessGrant(
                kind: .jwt,
                // No `chats` claim grants nothing: a token must say what it may write to.
                scope: claims.chats?.scope ?? .chats([]),
                fingerprint: TokenFingerprint.of(token),
                subject: claims.sub?.value,
                expiresAt: expiry.value.addingTimeInterval(self.leeway),
                credential: .jwt(token)
            )
        )
    }
}

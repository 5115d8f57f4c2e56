import Foundation
import NIOCore
import NIOHTTP1

/// The checks a WebSocket handshake passes before the upgrade: its `Origin`, then its bearer token and
/// whether that token may write to the chat. Runs once per connection, on the event loop, never per
/// message; with the default settings it does nothing at all.
public final class AccessControl: Sendable {
    private let origins: OriginPolicy
    public let trustedProxies: TrustedProxies
    private let tokens: StaticTokenSet?
    private let jwt: JWTVerifier?

    /// No checks: any origin, no credential, no trusted proxy.
    public static let open = AccessControl(origins: .any, trustedProxies: .none, tokens: nil, jwt: nil)

    /// Builds the JWT verifier (jwt-kit hands out its algorithm objects asynchronously); the settings
    /// were checked when the configuration was loaded.
    public static func make(_ settings: AccessSettings) async throws -> AccessControl {
        var jwt: JWTVerifier?
        if !settings.jwtKeys.isEmpty {
            jwt = try await JWTVerifier.make(
                keys: settings.jwtKeys,
                audience: settings.jwtAudience,
                issuer: settings.jwtIssuer,
                leeway: settings.jwtLeewaySeconds
            )
        }
        return AccessControl(
            origins: settings.origins,
            trustedProxies: settings.trustedProxies,
            tokens: settings.tokens,
            jwt: jwt
        )
    }

    private init(origins: OriginPolicy, trustedProxies: TrustedProxies, tokens: StaticTokenSet?, jwt: JWTVerifier?) {
        self.origins = origins
        self.trustedProxies = trustedProxies
        self.tokens = tokens
        self.jwt = jwt
    }

    public var requiresCredentials: Bool { self.tokens != nil || self.jwt != nil }

    /// The client behind `peer`: `X-Forwarded-For` is read only when `peer` is a trusted proxy.
    public func clientAddress(peer: SocketAddress?, headers: HTTPHeaders) -> ClientAddress {
        ClientAddress.resolve(peer: peer, forwardedFor: headers["x-forwarded-for"], trustedProxies: self.trustedProxies)
    }

    /// - Parameter chat: the chat name (`global` for the global endpoint).
    public func authorize(uri: String, headers: HTTPHeaders, chat: String, now: Date = Date()) -> AccessDecision {
        if let message = self.origins.refusal(for: headers) {
            return .refused(
                AccessRefusal(
                    reason: .originNotAllowed,
                    message: message,
                    detail: "origin",
                    challenge: nil,
                    fingerprint: nil
                )
            )
        }
        guard self.requiresCredentials else { return .allowed(nil) }
        let grant: AccessGrant
        switch self.authenticate(uri: uri, headers: headers, now: now) {
        case .failure(let failure):
            return .refused(
                AccessRefusal(
                    reason: .unauthorized,
                    message: failure.failure.message,
                    detail: failure.failure.detail,
                    challenge: failure.failure.challenge,
                    fingerprint: failure.fingerprint
                )
            )
        case .success(let found):
            grant = found
        }
        guard grant.scope.allows(chat) else {
            return .refused(
                AccessRefusal(
                    reason: .forbidden,
                    message: "this token may not write to chat \(chat)",
                    detail: "chat_not_allowed",
                    challenge: #"Bearer realm="kafka-chat-producer", error="insufficient_scope""#,
                    fingerprint: grant.fingerprint
                )
            )
        }
        return .allowed(grant)
    }

    /// Checks an open connection's grant again, after a reload replaced the tokens or keys: nil while it still
    /// may write to `chat`. A connection opened without a credential is refused once one is required; a
    /// static token must still be in the tokens file with a scope that allows the chat; a JWT must still
    /// verify (signature against the new keys, audience, issuer, expiry) and allow the chat.
    /// The origin and proxy settings are not checked again: they describe the handshake, which is over.
    public func recheck(_ grant: AccessGrant?, chat: String, now: Date = Date()) -> AccessRefusal? {
        guard self.requiresCredentials else { return nil }
        guard let grant else {
            return Self.revoked(.unauthorized, "a token is now required", detail: "token_required", fingerprint: nil)
        }
        let scope: ChatScope?
        switch grant.credential {
        case .staticToken(let digest):
            scope = self.tokens?.match(digest: digest)?.scope
        case .jwt(let token):
            scope = try? self.jwt?.verify(token, now: now).get().scope
        }
        guard let scope else {
            return Self.revoked(
                .unauthorized,
                "the token is no longer accepted",
                detail: "revoked",
                fingerprint: grant.fingerprint
            )
        }
        guard scope.allows(chat) else {
            return Self.revoked(
                .forbidden,
                "this token may no longer write to this chat",
                detail: "chat_not_allowed",
                fingerprint: grant.fingerprint
            )
        }
        return nil
    }

    private static func revoked(
        _ reason: AccessRefusal.Reason,
        _ message: String,
        detail: String,
        fingerprint: String?
    ) -> AccessRefusal {
        AccessRefusal(reason: reason, message: message, detail: detail, challenge: nil, fingerprint: fingerprint)
    }

    /// A failed authentication and the fingerprint of the token that failed, when there was one.
    private struct Failure: Error {
        var failure: TokenFailure
        var fingerprint: String?
    }

    private func authenticate(uri: String, headers: HTTPHeaders, now: Date) -> Result<AccessGrant, Failure> {
        let token: String
        switch BearerCredential.find(uri: uri, headers: headers) {
        case .failure(let failure): return .failure(Failure(failure: failure))
        case .success(nil): return .failure(Failure(failure: .missing))
        case .success(let found?): token = found
        }
        if let tokens = self.tokens, let entry = tokens.match(token) {
            return .success(
                AccessGrant(
                    kind: .staticToken,
                    scope: entry.scope,
                    fingerprint: entry.fingerprint,
                    subject: nil,
                    credential: .staticToken(entry.digest)
                )
            )
        }
        let fingerprint = TokenFingerprint.of(token)
        guard let jwt = self.jwt, JWTVerifier.looksLikeJWT(token) else {
            return .failure(Failure(failure: .unknownToken, fingerprint: fingerprint))
        }
        return jwt.verify(token, now: now).mapError { Failure(failure: $0, fingerprint: fingerprint) }
    }
}

import Access
import Foundation
import JWTKit

/// Claims as a test wants to mint them, including ones the daemon must refuse (no exp, odd chats).
struct ChatTokenClaimsFixture: JWTPayload {
    var exp: ExpirationClaim?
    var nbf: NotBeforeClaim?
    var aud: AudienceClaim?
    var iss: IssuerClaim?
    var sub: SubjectClaim?
    var chats: [String]?

    /// Valid for an hour, for `chat-service`, for chat `room-1` and the global endpoint.
    static func valid(now: Date = Date()) -> ChatTokenClaimsFixture {
        ChatTokenClaimsFixture(
            exp: ExpirationClaim(value: now.addingTimeInterval(3600)),
            aud: AudienceClaim(value: ["chat-service"]),
            iss: IssuerClaim(value: "https://id.example.com"),
            sub: SubjectClaim(value: "alice"),
            chats: ["room-1", "global"]
        )
    }

    func verify(using algorithm: some JWTAlgorithm) async throws {}
}

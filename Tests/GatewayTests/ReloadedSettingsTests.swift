import Access
import Foundation
import Ingest
import Monitoring
import Testing

@testable import Gateway

/// A reload puts new settings in force for the open connections (`WebSocketConnectionHandler.settingsChanged`):
/// a removed token, a token that no longer covers the chat, or a chat the policy no longer allows closes
/// the connection with 1008 and a reason; otherwise it takes the new timeouts and rate.
@Suite("reloaded settings on open connections")
struct ReloadedSettingsTests {
    static let token = "reload-token-aaaaaaaaaaaa"
    static let otherToken = "reload-token-bbbbbbbbbbbb"

    static func staticGrant(_ token: String, scope: ChatScope = .anyChat) -> AccessGrant {
        let digest = TokenDigest(of: token)
        return AccessGrant(
            kind: .staticToken,
            scope: scope,
            fingerprint: digest.fingerprint,
            subject: nil,
            credential: .staticToken(digest)
        )
    }

    /// The access checks of a tokens file holding `lines`.
    static func access(tokens lines: String) async throws -> AccessControl {
        var settings = AccessSettings()
        settings.tokens = try StaticTokenSet.parse(lines)
        return try await AccessControl.make(settings)
    }

    /// Puts `configuration` and `access` in force on the connection's gateway and tells the connection.
    static func reload(
        _ connection: ConnectionUnderTest,
        configuration: GatewayConfiguration = GatewayConfiguration(),
        access: AccessControl
    ) -> Bool {
        let settings = GatewaySettings(
            configuration: configuration,
            access: access,
            limits: LimitsRuntime(
                configuration.limits,
                ingest: connection.ingest,
                replacing: connection.gateway.settings.limits
            )
        )
        connection.gateway.replaceSettings(settings)
        return connection.handler.settingsChanged(settings)
    }

    @Test func aConnectionWhoseTokenWasRemovedIsClosedWith1008() async throws {
        let access = try await Self.access(tokens: Self.otherToken)
        let connection = try ConnectionUnderTest(grant: Self.staticGrant(Self.token))
        try connection.sendText(WebSocketConnectionHandlerTests.hello)
        #expect(Self.reload(connection, access: access))
        let frames = try connection.written()
        #expect(frames.map(\.closeCode) == [1008])
        #expect(frames.first?.closeReason == "the token is no longer accepted: reconnect with a valid token")
        #expect(connection.closes(.credentialRevoked) == 1)
        // What came before the reload was taken; nothing after it is.
        try connection.sendText(WebSocketConnectionHandlerTests.hello)
        #expect(connection.drainRing().count == 1)
    }

    @Test func aTokenThatNoLongerCoversTheChatClosesWith1008() async throws {
        let access = try await Self.access(tokens: "\(Self.token) other-room")
        let connection = try ConnectionUnderTest(grant: Self.staticGrant(Self.token), chat: "room")
        #expect(Self.reload(connection, access: access))
        let frames = try connection.written()
        #expect(frames.map(\.closeCode) == [1008])
        #expect(
            frames.first?.closeReason == "this token may no longer write to this chat: reconnect with a valid token"
        )
        #expect(connection.closes(.credentialRevoked) == 1)
    }

    @Test func aConnectionWithoutATokenIsClosedOnceOneIsRequired() async throws {
        let access = try await Self.access(tokens: Self.token)
        let connection = try ConnectionUnderTest(grant: nil)
        #expect(Self.reload(connection, access: access))
        #expect(try connection.written().first?.closeReason == "a token is now required: reconnect with a valid token")
    }

    @Test func aTokenStillInTheFileKeepsItsConnection() async throws {
        let access = try await Self.access(tokens: "\(Self.otherToken)\n\(Self.token) room,lobby")
        let connection = try ConnectionUnderTest(grant: Self.staticGrant(Self.token))
        #expect(!Self.reload(connection, access: access))
        #expect(try connection.written().isEmpty)
        try connection.sendText(WebSocketConnectionHandlerTests.hello)
        #expect(connection.drainRing().count == 1)
        #expect(connection.isOpen)
    }

    @Test func aChatThePolicyNoLongerAllowsClosesWith1008() throws {
        var configuration = GatewayConfiguration()
        configuration.limits.chats = try ChatPolicy(pattern: ChatPolicy.defaultPattern, allowedChats: ["lobby"])
        let connection = try ConnectionUnderTest(chat: "room")
        #expect(Self.reload(connection, configuration: configuration, access: .open))
        let frames = try connection.written()
        #expect(frames.map(\.closeCode) == [1008])
        #expect(frames.first?.closeReason == "this chat is no longer allowed by the server's configuration")
        #expect(connection.closes(.chatNotAllowed) == 1)
    }

    @Test func aRateSetByAReloadAppliesToOpenConnections() throws {
        let connection = try ConnectionUnderTest()
        for number in 1...5 { try connection.sendText(WebSocketConnectionHandlerTests.message(number)) }
        #expect(connection.drainRing().count == 5)
        var configuration = GatewayConfiguration()
        configuration.limits.messagesPerSecond = 2
        configuration.limits.burstSeconds = 1
        #expect(!Self.reload(connection, configuration: configuration, access: .open))
        for number in 6...10 { try connection.sendText(WebSocketConnectionHandlerTests.message(number)) }
        // A full bucket of two, then paused for the rest.
        #expect(connection.drainRing().count == 2)
        #expect(!connection.read())
    }

    @Test func anIdleTimeoutSetByAReloadAppliesToOpenConnections() throws {
        let connection = try ConnectionUnderTest()
        var configuration = GatewayConfiguration()
        configuration.limits.idleTimeout = .seconds(10)
        configuration.limits.pingInterval = .zero
        #expect(!Self.reload(connection, configuration: configuration, access: .open))
        let now = MonotonicClock.nanoseconds()
        connection.handler.sweep(now: now + 11_000_000_000)
        #expect(try connection.written().map(\.closeCode) == [1001])
    }
}

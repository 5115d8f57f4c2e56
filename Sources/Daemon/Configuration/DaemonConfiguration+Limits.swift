import Foundation
import Gateway

extension DaemonConfiguration {
    /// The limits as the gateway takes them. A chat pattern that does not compile (only possible when the
    /// configuration was built in code, the loader refuses it) admits no chat but `global`: fail closed.
    var gatewayLimits: GatewayLimits {
        let chats =
            (try? ChatPolicy(pattern: self.chatPattern, allowedChats: Self.chatList(self.allowedChats)))
            ?? (try! ChatPolicy(pattern: "(?!)"))  // a constant pattern that compiles: cannot throw
        return GatewayLimits(
            maxConnections: self.maxConnections,
            maxConnectionsPerIP: self.maxConnectionsPerIP,
            messagesPerSecond: self.messagesPerSecond,
            bytesPerSecond: self.bytesPerSecond,
            burstSeconds: self.burstSeconds,
            rateViolationClose: Self.duration(self.rateViolationCloseSeconds),
            handshakeTimeout: Self.duration(self.handshakeTimeoutSeconds),
            idleTimeout: Self.duration(self.idleTimeoutSeconds),
            pingInterval: Self.duration(self.pingIntervalSeconds),
            overloadClose: Self.duration(self.overloadCloseSeconds),
            chats: chats,
            requireExistingTopics: self.requireExistingTopics,
            topicListTTL: Self.duration(self.topicExistenceCacheSeconds)
        )
    }

    /// `a, b,c` → `["a", "b", "c"]`; empty entries are dropped.
    static func chatList(_ text: String) -> [String] {
        text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    private static func duration(_ seconds: Double) -> Duration {
        .nanoseconds(Int64((seconds * 1e9).rounded()))
    }
}

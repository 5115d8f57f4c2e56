import ChatContract
import Ingest
import Monitoring
import NIOHTTP1

/// The HTTP answers of the hardening limits.
extension HTTPRejection {
    static func tooManyConnections(_ limit: Int) -> HTTPRejection {
        HTTPRejection(
            status: .serviceUnavailable,
            code: .tooManyConnections,
            message: "the server holds its maximum of \(limit) WebSocket connections; try again later",
            headers: [("Retry-After", "5")]
        )
    }

    /// 429, not 503: the client is over its own share, the server is not out of capacity (a 503 would make
    /// load balancers and health checks treat the instance as failing).
    static func tooManyConnectionsPerIP(_ limit: Int) -> HTTPRejection {
        HTTPRejection(
            status: .tooManyRequests,
            code: .tooManyConnectionsPerIP,
            message:
                "your address already has \(limit) WebSocket connections open, the most allowed; close one or try again later",
            headers: [("Retry-After", "10")]
        )
    }

    /// 403: the chat name is legal, but the operator's pattern or allowlist does not admit it.
    static func chatNotAllowed(_ reason: String) -> HTTPRejection {
        HTTPRejection(status: .forbidden, code: .chatNotAllowed, message: reason)
    }

    static func unknownChat(_ topic: TopicName) -> HTTPRejection {
        HTTPRejection(
            status: .notFound,
            code: .unknownChat,
            message:
                "no such chat: topic \(topic.value) does not exist in the Kafka cluster, and this server only serves existing chats"
        )
    }

    static let kafkaUnavailable = HTTPRejection(
        status: .serviceUnavailable,
        code: .kafkaUnavailable,
        message: "cannot check that the chat exists: the Kafka cluster did not answer; try again later",
        headers: [("Retry-After", "5")]
    )

    /// The ring registry could not give the chat a buffer.
    static func ringRefusal(_ error: RingRegistryError) -> HTTPRejection {
        let code: ConnectionRejection
        switch error {
        case .tooManyTopics: code = .tooManyTopics
        case .budgetExhausted, .kafka: code = .overloaded
        }
        return HTTPRejection(
            status: .serviceUnavailable,
            code: code,
            message: error.description,
            headers: [("Retry-After", "5")]
        )
    }
}

/// Why a chat name cannot become a Kafka topic; the message is meant for the client's HTTP reply.
public struct TopicNameError: Error, Sendable, Equatable {
    public var message: String

    public init(message: String) {
        self.message = message
    }
}

/// What the cluster's topic list says about one topic.
enum TopicExistence: Equatable, Sendable {
    case exists
    case missing
    /// No list could be fetched yet (Kafka unreachable).
    case unknown
}

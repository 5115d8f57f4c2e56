/// Which Kafka record key a chat message gets. Keys decide partitions: `sender` keeps one sender's
/// messages in order on one partition, `chat` keeps a whole chat in order; `none` spreads load best.
public enum RecordKeyPolicy: String, Sendable, CaseIterable {
    case none
    case sender
    case chat
}

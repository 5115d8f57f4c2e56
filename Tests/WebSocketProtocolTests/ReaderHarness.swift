import NIOCore
import WebSocketProtocol

/// A reader plus the connection's cumulation buffer, recording every delivery (redeliveries included).
struct ReaderHarness {
    var reader: WebSocketFrameReader
    var buffer = ByteBuffer()
    var events: [RecordedEvent] = []

    init(maxMessageBytes: Int = 1 << 20, maxFragments: Int = 16, validatesTextUTF8: Bool = true) {
        reader = WebSocketFrameReader(
            maxMessageBytes: maxMessageBytes,
            maxFragments: maxFragments,
            validatesTextUTF8: validatesTextUTF8
        )
    }

    /// Appends bytes as if they came from the socket, then reads.
    mutating func feed(
        _ bytes: [UInt8],
        decide: (RecordedEvent) -> WebSocketEventDisposition = { _ in .consumed }
    ) -> WebSocketReadOutcome {
        buffer.writeBytes(bytes)
        return read(decide: decide)
    }

    mutating func read(
        decide: (RecordedEvent) -> WebSocketEventDisposition = { _ in .consumed }
    ) -> WebSocketReadOutcome {
        var delivered: [RecordedEvent] = []
        let outcome = reader.read(&buffer) { event in
            let recorded = RecordedEvent(event)
            delivered.append(recorded)
            return decide(recorded)
        }
        events += delivered
        return outcome
    }
}

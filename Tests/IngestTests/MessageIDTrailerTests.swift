import ChatContract
import Testing

@testable import Ingest

@Suite("MessageIDTrailer")
struct MessageIDTrailerTests {
    /// Validates `frame` (masked with `maskKey`, as a client sends it), writes the record as a connection
    /// does, then splits it as the producer thread does.
    func roundTrip(_ frame: String, maskKey: UInt32) throws -> (value: String, id: [UInt8], header: [UInt8]) {
        var bytes = Array(frame.utf8)
        for index in bytes.indices { bytes[index] ^= UInt8(truncatingIfNeeded: maskKey >> ((index & 3) * 8)) }
        return try bytes.withUnsafeBytes { payload in
            let message = try ChatMessageValidator.validate(payload, maskKey: maskKey).get()
            let valueCount = ChatMessageValidator.canonicalByteCount(of: message)
            let count = MessageIDTrailer.recordCount(valueCount: valueCount, idCount: message.id?.count ?? 0)
            var record = [UInt8](repeating: 0xEE, count: count)
            record.withUnsafeMutableBytes { destination in
                _ = ChatMessageValidator.writeCanonical(
                    message,
                    from: payload,
                    maskKey: maskKey,
                    to: destination.baseAddress!
                )
                MessageIDTrailer.write(
                    id: message.id,
                    from: payload,
                    maskKey: maskKey,
                    after: valueCount,
                    to: destination
                )
            }
            return record.withUnsafeBytes { record in
                let (value, id) = MessageIDTrailer.split(record)
                let header = MessageIDTrailer.withHeaderValue(ofIDToken: id) { Array($0) }
                return (String(decoding: value, as: UTF8.self), Array(id), header)
            }
        }
    }

    @Test(arguments: [0, 0x1234_5678] as [UInt32])
    func stringNumberEscapedAndMissingIDs(maskKey: UInt32) throws {
        let plain = try self.roundTrip(#"{"sender":"a","text":"b","tag":"c","id":"m-1"}"#, maskKey: maskKey)
        #expect(plain.value == #"{"sender":"a","text":"b","tag":"c"}"#)
        #expect(plain.id == Array(#""m-1""#.utf8))
        #expect(plain.header == Array("m-1".utf8))

        let escaped = try self.roundTrip(#"{"id":"x\u00e9\"y","sender":"a","text":"b","tag":"c"}"#, maskKey: maskKey)
        #expect(escaped.value == #"{"sender":"a","text":"b","tag":"c"}"#)
        #expect(escaped.header == Array("xé\"y".utf8))

        let number = try self.roundTrip(#"{"sender":"a","text":"b","tag":"c","id":-17}"#, maskKey: maskKey)
        #expect(number.header == Array("-17".utf8))

        let none = try self.roundTrip(#"{"sender":"a","text":"b","tag":"c"}"#, maskKey: maskKey)
        #expect(none.value == #"{"sender":"a","text":"b","tag":"c"}"#)
        #expect(none.id.isEmpty)
    }
}

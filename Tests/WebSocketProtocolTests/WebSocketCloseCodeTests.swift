import Testing
import WebSocketProtocol

@Suite("WebSocketCloseCode")
struct WebSocketCloseCodeTests {
    @Test("named codes have their RFC values")
    func namedValues() {
        let named: [(WebSocketCloseCode, UInt16)] = [
            (.normalClosure, 1000), (.goingAway, 1001), (.protocolError, 1002), (.unsupportedData, 1003),
            (.invalidFramePayloadData, 1007), (.policyViolation, 1008), (.messageTooBig, 1009),
            (.mandatoryExtension, 1010), (.internalServerError, 1011), (.serviceRestart, 1012),
            (.tryAgainLater, 1013), (.badGateway, 1014),
        ]
        for (code, value) in named {
            #expect(code.rawValue == value)
            #expect(code.isValidOnWire)
        }
    }

    @Test("validity on the wire over the whole UInt16 range")
    func wireValidity() {
        let valid = (0...UInt16.max).filter { WebSocketCloseCode(rawValue: $0).isValidOnWire }
        let expected = Array(1000...1003) + Array(1007...1014) + Array(3000...4999)
        #expect(valid == expected.map(UInt16.init))
        for reserved: UInt16 in [1004, 1005, 1006, 1015] {
            #expect(!WebSocketCloseCode(rawValue: reserved).isValidOnWire)
        }
    }
}

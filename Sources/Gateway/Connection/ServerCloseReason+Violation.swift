import Monitoring
import WebSocketProtocol

extension ServerCloseReason {
    /// The reason a connection failed for a protocol violation counts as, by its close code.
    init(violation code: WebSocketCloseCode) {
        switch code {
        case .protocolError: self = .protocolError
        case .invalidFramePayloadData: self = .invalidPayload
        case .messageTooBig: self = .messageTooBig
        default: self = .other
        }
    }
}

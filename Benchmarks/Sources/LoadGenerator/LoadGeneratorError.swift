/// Why a run could not start or could not be measured; printed as one line on stderr.
enum LoadGeneratorError: Error, CustomStringConvertible {
    case invalidArgument(String)
    case handshake(String)
    case closedDuringHandshake
    case protocolViolation(String)
    case setup(String)

    var description: String {
        switch self {
        case .invalidArgument(let message): return message
        case .handshake(let statusLine): return "WebSocket upgrade refused: \(statusLine)"
        case .closedDuringHandshake: return "connection closed during the WebSocket upgrade"
        case .protocolViolation(let message): return "server broke the WebSocket protocol: \(message)"
        case .setup(let message): return message
        }
    }
}

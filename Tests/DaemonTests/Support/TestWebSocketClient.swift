import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// A deliberately low-level WebSocket client for tests: a blocking loopback socket and hand-built frames,
/// so tests can send exactly the bytes a broken or hostile client would (unmasked frames, reserved bits,
/// split UTF-8, oversize messages…) and see exactly what the server answers.
final class TestWebSocketClient: @unchecked Sendable {
    enum ClientError: Error, CustomStringConvertible {
        case connectFailed(Int32)
        case timedOut(String)
        case closedByPeer
        case handshakeRejected(status: Int, body: String)
        case malformed(String)

        var description: String {
            switch self {
            case .connectFailed(let errno): return "connect failed: errno \(errno)"
            case .timedOut(let what): return "timed out waiting for \(what)"
            case .closedByPeer: return "connection closed by the server"
            case .handshakeRejected(let status, let body): return "handshake rejected: \(status) \(body)"
            case .malformed(let what): return "malformed: \(what)"
            }
        }
    }

    struct Frame: Equatable {
        var fin: Bool
        var opcode: UInt8
        var payload: [UInt8]
        var text: String { String(decoding: self.payload, as: UTF8.self) }
        /// For close frames.
        var closeCode: UInt16? {
            self.payload.count >= 2 ? UInt16(self.payload[0]) << 8 | UInt16(self.payload[1]) : nil
        }
        var closeReason: String { String(decoding: self.payload.dropFirst(2), as: UTF8.self) }
    }

    struct HTTPResponse {
        var status: Int
        var headers: [(String, String)]
        var body: String
        func header(_ name: String) -> String? {
            self.headers.first { $0.0.lowercased() == name.lowercased() }?.1
        }
    }

    let fd: Int32
    private var buffered: [UInt8] = []

    /// - Parameter host: the IPv4 address to connect to (the daemon's own non-loopback address tests a
    ///   client that is not this machine, for per-IP limits).
    init(port: Int, timeoutSeconds: Int = 10, host: String = "127.0.0.1") throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr(host)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            let code = errno
            close(fd)
            throw ClientError.connectFailed(code)
        }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        self.fd = fd
    }

    deinit {
        close(self.fd)
    }

    /// Makes the close (at deinit) a TCP reset instead of a FIN, like a client that crashed.
    func resetOnClose() {
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        setsockopt(self.fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
    }

    /// Connects and upgrades; throws `handshakeRejected` with the server's answer when it refuses.
    static func connect(
        port: Int,
        path: String,
        headers: [(String, String)]? = nil,
        host: String = "127.0.0.1"
    ) throws -> TestWebSocketClient {
        let client = try TestWebSocketClient(port: port, host: host)
        let response = try client.handshake(path: path, headers: headers)
        guard response.status == 101 else {
            throw ClientError.handshakeRejected(status: response.status, body: response.body)
        }
        return client
    }

    static let defaultHandshakeHeaders: [(String, String)] = [
        ("Upgrade", "websocket"),
        ("Connection", "Upgrade"),
        ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
        ("Sec-WebSocket-Version", "13"),
    ]

    /// Sends a GET with the given headers (the standard upgrade headers by default) and reads the response head
    /// (and body, when it has a Content-Length).
    func handshake(path: String, headers: [(String, String)]? = nil, method: String = "GET") throws -> HTTPResponse {
        var request = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        for (name, value) in headers ?? Self.defaultHandshakeHeaders { request += "\(name): \(value)\r\n" }
        request += "\r\n"
        try self.send(Array(request.utf8))
        return try self.readHTTPResponse(hasBody: method != "HEAD")
    }

    /// `hasBody: false` for the answer to a HEAD request, whose Content-Length describes a body not sent.
    func readHTTPResponse(hasBody: Bool = true) throws -> HTTPResponse {
        let terminator: [UInt8] = [13, 10, 13, 10]
        while self.indexOf(terminator) == nil { try self.fill("an HTTP response") }
        let end = self.indexOf(terminator)!
        let head = String(decoding: self.buffered[..<end], as: UTF8.self)
        self.buffered.removeFirst(end + 4)
        var lines = head.split(separator: "\r\n", omittingEmptySubsequences: false).map(String.init)
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else { throw ClientError.malformed("status line") }
        let headers = lines.compactMap { line -> (String, String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingPrefix(" ").description)
        }
        var response = HTTPResponse(status: status, headers: headers, body: "")
        if hasBody, let length = response.header("Content-Length").flatMap(Int.init), length > 0 {
            while self.buffered.count < length { try self.fill("the response body") }
            response.body = String(decoding: self.buffered[..<length], as: UTF8.self)
            self.buffered.removeFirst(length)
        }
        return response
    }

    // MARK: frames

    /// Builds one client frame. `mask` nil sends it unmasked (a protocol violation).
    static func frame(
        opcode: UInt8,
        payload: [UInt8],
        fin: Bool = true,
        rsv: UInt8 = 0,
        mask: [UInt8]? = ClientFrameEncoder.defaultMask
    ) -> [UInt8] {
        ClientFrameEncoder.frame(opcode: opcode, payload, fin: fin, rsv: rsv, mask: mask)
    }

    func sendText(_ text: String) throws {
        try self.send(Self.frame(opcode: 1, payload: Array(text.utf8)))
    }

    func sendFrame(opcode: UInt8, payload: [UInt8], fin: Bool = true, rsv: UInt8 = 0, masked: Bool = true) throws {
        try self.send(
            Self.frame(
                opcode: opcode,
                payload: payload,
                fin: fin,
                rsv: rsv,
                mask: masked ? [0x9A, 0x01, 0xFE, 0x33] : nil
            )
        )
    }

    func sendClose(code: UInt16, reason: String = "") throws {
        try self.sendFrame(opcode: 8, payload: [UInt8(code >> 8), UInt8(code & 0xFF)] + Array(reason.utf8))
    }

    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes {
                Glibc.send(self.fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            if written <= 0 { throw ClientError.closedByPeer }
            offset += written
        }
    }

    /// Reads one server frame (server frames are never masked).
    func receiveFrame() throws -> Frame {
        while self.buffered.count < 2 { try self.fill("a frame") }
        let first = self.buffered[0]
        let second = self.buffered[1]
        guard second & 0x80 == 0 else { throw ClientError.malformed("server frame is masked") }
        var length = Int(second & 0x7F)
        var headerLength = 2
        if length == 126 {
            while self.buffered.count < 4 { try self.fill("a frame length") }
            length = Int(self.buffered[2]) << 8 | Int(self.buffered[3])
            headerLength = 4
        } else if length == 127 {
            while self.buffered.count < 10 { try self.fill("a frame length") }
            length = self.buffered[2..<10].reduce(0) { $0 << 8 | Int($1) }
            headerLength = 10
        }
        while self.buffered.count < headerLength + length { try self.fill("a frame payload") }
        let payload = Array(self.buffered[headerLength..<(headerLength + length)])
        self.buffered.removeFirst(headerLength + length)
        return Frame(fin: first & 0x80 != 0, opcode: first & 0x0F, payload: payload)
    }

    /// Reads frames until a text frame arrives (skipping pongs).
    func receiveText() throws -> String {
        while true {
            let frame = try self.receiveFrame()
            if frame.opcode == 1 { return frame.text }
            if frame.opcode == 8 {
                throw ClientError.malformed("close \(frame.closeCode ?? 0) \(frame.closeReason) instead of text")
            }
        }
    }

    /// Reads frames until the server's close frame; returns it. Text frames before it are returned too.
    func receiveClose() throws -> (code: UInt16?, reason: String, textsBefore: [String]) {
        var texts: [String] = []
        while true {
            let frame = try self.receiveFrame()
            if frame.opcode == 8 { return (frame.closeCode, frame.closeReason, texts) }
            if frame.opcode == 1 { texts.append(frame.text) }
        }
    }

    /// True when the server closed the TCP connection (EOF) within the receive timeout.
    func waitForEOF() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(self.fd, $0.baseAddress, $0.count, 0) }
            if count == 0 { return true }
            if count < 0 { return errno == ECONNRESET }
        }
    }

    private func fill(_ what: String) throws {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let count = chunk.withUnsafeMutableBytes { recv(self.fd, $0.baseAddress, $0.count, 0) }
        if count == 0 { throw ClientError.closedByPeer }
        if count < 0 {
            if errno == EAGAIN || errno == EWOULDBLOCK { throw ClientError.timedOut(what) }
            throw ClientError.closedByPeer
        }
        self.buffered += chunk[..<count]
    }

    private func indexOf(_ needle: [UInt8]) -> Int? {
        guard self.buffered.count >= needle.count else { return nil }
        for index in 0...(self.buffered.count - needle.count)
        where self.buffered[index..<(index + needle.count)].elementsEqual(needle) {
            return index
        }
        return nil
    }
}

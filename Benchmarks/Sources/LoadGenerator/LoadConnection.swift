#if canImport(Glibc)
import Glibc
#endif

/// One blocking WebSocket client connection on loopback that writes prebuilt masked frames.
final class LoadConnection: @unchecked Sendable {
    let fd: Int32

    init(port: Int, path: String) throws {
        self.fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(self.fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else { throw LoadError.connect(errno) }
        let request = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        guard self.send(Array(request.utf8)) else { throw LoadError.handshake("send failed") }
        var response: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1024)
        while !response.suffix(4).elementsEqual([13, 10, 13, 10]) {
            let count = chunk.withUnsafeMutableBytes { recv(self.fd, $0.baseAddress, 1, 0) }
            guard count == 1 else { throw LoadError.handshake("connection closed") }
            response.append(chunk[0])
        }
        guard String(decoding: response, as: UTF8.self).hasPrefix("HTTP/1.1 101") else {
            throw LoadError.handshake(String(decoding: response, as: UTF8.self))
        }
    }

    deinit { close(self.fd) }

    /// `frames` masked text frames of about `size` bytes each, concatenated for one send().
    static func batch(connection: Int, frames: Int, size: Int) -> [UInt8] {
        var bytes: [UInt8] = []
        let mask: [UInt8] = [0x37, 0xFA, 0x21, 0x3D]
        for index in 0..<frames {
            let prefix = #"{"sender":"bench-\#(connection)","text":"\#(index) "#
            let suffix = #"","tag":"bench"}"#
            let padding = max(0, size - prefix.utf8.count - suffix.utf8.count)
            let payload = Array((prefix + String(repeating: "x", count: padding) + suffix).utf8)
            bytes.append(0x81)
            if payload.count < 126 {
                bytes.append(0x80 | UInt8(payload.count))
            } else {
                bytes.append(0x80 | 126)
                bytes.append(UInt8(payload.count >> 8))
                bytes.append(UInt8(payload.count & 0xFF))
            }
            bytes += mask
            bytes += payload.enumerated().map { $0.element ^ mask[$0.offset & 3] }
        }
        return bytes
    }

    func send(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.send(self.fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if written <= 0 { return false }
            offset += written
        }
        return true
    }
}

enum LoadError: Error {
    case connect(Int32)
    case handshake(String)
}

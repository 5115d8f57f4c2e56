/// A `host:port` that is guaranteed to be on this machine's loopback: the generator produces real load and
/// must never point it anywhere else, so every address it is given goes through here.
struct LoopbackEndpoint: Sendable, Equatable, CustomStringConvertible {
    /// Numeric address to connect to (`localhost` is resolved to 127.0.0.1 here, not by a resolver).
    let host: String
    let port: Int

    var description: String { self.host.contains(":") ? "[\(self.host)]:\(self.port)" : "\(self.host):\(self.port)" }

    /// `ws://127.0.0.1:PORT` (an optional trailing `/` is accepted; the generator chooses the paths itself).
    static func parseWebSocketURL(_ url: String) throws(LoadGeneratorError) -> LoopbackEndpoint {
        guard url.hasPrefix("ws://") else { throw .invalidArgument("--url must start with ws:// (got \(url))") }
        var rest = Substring(url.dropFirst(5))
        if rest.hasSuffix("/") { rest = rest.dropLast() }
        guard !rest.contains("/"), !rest.contains("?") else {
            throw .invalidArgument("--url takes no path: the generator picks /send-message/… itself (got \(url))")
        }
        return try Self.parse(hostPort: rest, what: "--url")
    }

    /// `HOST:PORT[,HOST:PORT…]` for librdkafka; every entry must be loopback.
    static func parseBootstrapServers(_ list: String) throws(LoadGeneratorError) -> [LoopbackEndpoint] {
        let entries = list.split(separator: ",").map { $0.trimmingWhitespace() }
        guard !entries.isEmpty else { throw .invalidArgument("--bootstrap-servers is empty") }
        var endpoints: [LoopbackEndpoint] = []
        for entry in entries {
            // librdkafka accepts an optional protocol prefix, e.g. PLAINTEXT://127.0.0.1:9092.
            let plain = entry.firstRange(of: "://").map { entry[$0.upperBound...] } ?? entry[...]
            endpoints.append(try Self.parse(hostPort: plain, what: "--bootstrap-servers"))
        }
        return endpoints
    }

    private static func parse(hostPort: Substring, what: String) throws(LoadGeneratorError) -> LoopbackEndpoint {
        let host: Substring
        let portText: Substring
        if hostPort.hasPrefix("[") {
            guard let close = hostPort.firstIndex(of: "]") else {
                throw .invalidArgument("\(what): bad address \(hostPort)")
            }
            host = hostPort[hostPort.index(after: hostPort.startIndex)..<close]
            let afterClose = hostPort[hostPort.index(after: close)...]
            guard afterClose.hasPrefix(":") else { throw .invalidArgument("\(what): missing port in \(hostPort)") }
            portText = afterClose.dropFirst()
        } else {
            guard let colon = hostPort.lastIndex(of: ":") else {
                throw .invalidArgument("\(what): missing port in \(hostPort)")
            }
            host = hostPort[..<colon]
            portText = hostPort[hostPort.index(after: colon)...]
        }
        guard let port = Int(portText), (1...65535).contains(port) else {
            throw .invalidArgument("\(what): bad port in \(hostPort)")
        }
        guard let numeric = Self.loopbackAddress(String(host)) else {
            throw .invalidArgument(
                "\(what): \(host) is not a loopback address; the generator only targets 127.0.0.0/8, localhost or ::1"
            )
        }
        return LoopbackEndpoint(host: numeric, port: port)
    }

    /// The numeric address when `host` is loopback, else nil.
    static func loopbackAddress(_ host: String) -> String? {
        if host == "localhost" { return "127.0.0.1" }
        if host == "::1" { return "::1" }
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4, octets.allSatisfy({ UInt8($0) != nil }), octets[0] == "127" else { return nil }
        return host
    }
}

extension Substring {
    func trimmingWhitespace() -> Substring {
        var result = self
        while result.first?.isWhitespace == true { result = result.dropFirst() }
        while result.last?.isWhitespace == true { result = result.dropLast() }
        return result
    }
}

import Access
import NIOCore
import Testing

@Suite("addresses, trusted proxies and X-Forwarded-For")
struct NetworkTests {
    @Test("IPv4, IPv6, IPv4-mapped IPv6 and brackets")
    func addresses() throws {
        let v4 = try #require(IPAddress("192.0.2.7"))
        #expect(v4.isIPv4 && v4.description == "192.0.2.7")
        let v6 = try #require(IPAddress("2001:DB8::1"))
        #expect(!v6.isIPv4 && v6.description == "2001:db8::1")
        #expect(IPAddress("::ffff:192.0.2.7") == v4)
        #expect(IPAddress("[2001:db8::1]") == v6)
        for bad in ["", "192.0.2", "192.0.2.256", "example.com", "1.2.3.4:80", "::g", "unknown"] {
            #expect(IPAddress(bad) == nil, "\(bad)")
        }
    }

    @Test("CIDR blocks")
    func blocks() throws {
        let ten = try #require(AddressBlock("10.1.2.3/8"))
        #expect(ten.description == "10.0.0.0/8")
        #expect(ten.contains(IPAddress("10.255.0.1")!))
        #expect(!ten.contains(IPAddress("11.0.0.1")!))
        #expect(ten.contains(IPAddress("::ffff:a00:1")!))  // IPv4-mapped 10.0.0.1
        let ula = try #require(AddressBlock("fd00::/8"))
        #expect(ula.contains(IPAddress("fd12:3456::1")!))
        #expect(!ula.contains(IPAddress("10.0.0.1")!))
        #expect(AddressBlock("0.0.0.0/0")!.contains(IPAddress("203.0.113.1")!))
        #expect(AddressBlock("::1")!.contains(IPAddress("::1")!))
        #expect(AddressBlock("10.0.0.0/33") == nil)
        #expect(AddressBlock("10.0.0.0/") == nil)
        #expect(AddressBlock("proxy.local") == nil)
    }

    @Test("http.trusted_proxies parsing")
    func trustedProxies() throws {
        let proxies = try TrustedProxies.parse(" 127.0.0.1, 10.0.0.0/8 ,::1,")
        #expect(proxies.blocks.count == 3)
        #expect(try TrustedProxies.parse("").isEmpty)
        #expect(throws: AccessSetupError.self) { try TrustedProxies.parse("127.0.0.1, nginx") }
    }

    static let proxies = try! TrustedProxies.parse("127.0.0.1, 10.0.0.0/8")

    static func resolve(peer: String, _ forwardedFor: [String]) -> ClientAddress {
        ClientAddress.resolve(peer: IPAddress(peer), forwardedFor: forwardedFor, trustedProxies: Self.proxies)
    }

    @Test("X-Forwarded-For is read only from a trusted peer")
    func untrustedPeer() {
        let client = Self.resolve(peer: "198.51.100.4", ["203.0.113.9"])
        #expect(client.ip == IPAddress("198.51.100.4"))
        #expect(!client.isForwarded)
        #expect(client.description == "198.51.100.4")
        #expect(
            ClientAddress.resolve(peer: IPAddress("127.0.0.1"), forwardedFor: ["203.0.113.9"], trustedProxies: .none).ip
                == IPAddress("127.0.0.1")
        )
    }

    @Test("behind a trusted proxy the client is the last hop that is not a trusted proxy")
    func lastHop() {
        let one = Self.resolve(peer: "127.0.0.1", ["203.0.113.9"])
        #expect(one.ip == IPAddress("203.0.113.9"))
        #expect(one.peer == IPAddress("127.0.0.1"))
        #expect(one.description == "203.0.113.9 via 127.0.0.1")
        // A client-supplied entry on the left is ignored: the proxy appended the real peer.
        #expect(Self.resolve(peer: "127.0.0.1", ["1.1.1.1, 203.0.113.9"]).ip == IPAddress("203.0.113.9"))
        // A chain of our own proxies (CDN → 10.x → nginx) is walked back.
        #expect(Self.resolve(peer: "127.0.0.1", ["203.0.113.9, 10.0.0.5"]).ip == IPAddress("203.0.113.9"))
        // Several header lines count as one list, in order.
        #expect(Self.resolve(peer: "127.0.0.1", ["1.1.1.1", "203.0.113.9, 10.0.0.5"]).ip == IPAddress("203.0.113.9"))
        // Ports and brackets as some proxies write them.
        #expect(Self.resolve(peer: "127.0.0.1", ["203.0.113.9:5123"]).ip == IPAddress("203.0.113.9"))
        #expect(Self.resolve(peer: "127.0.0.1", ["[2001:db8::5]:443"]).ip == IPAddress("2001:db8::5"))
    }

    @Test("unreadable hops stop the walk at the last trusted address")
    func garbage() {
        #expect(Self.resolve(peer: "127.0.0.1", ["unknown"]).ip == IPAddress("127.0.0.1"))
        #expect(Self.resolve(peer: "127.0.0.1", ["203.0.113.9, 10.0.0.5, garbage"]).ip == IPAddress("127.0.0.1"))
        #expect(Self.resolve(peer: "127.0.0.1", ["203.0.113.9, garbage, 10.0.0.5"]).ip == IPAddress("10.0.0.5"))
        #expect(Self.resolve(peer: "127.0.0.1", []).ip == IPAddress("127.0.0.1"))
        // Only trusted hops: the leftmost one is the best guess.
        #expect(Self.resolve(peer: "127.0.0.1", ["10.0.0.7, 10.0.0.5"]).ip == IPAddress("10.0.0.7"))
    }

    @Test("from a NIO peer address")
    func socketAddress() throws {
        let peer = try SocketAddress(ipAddress: "127.0.0.1", port: 40000)
        let client = ClientAddress.resolve(peer: peer, forwardedFor: ["203.0.113.9"], trustedProxies: Self.proxies)
        #expect(client.ip == IPAddress("203.0.113.9"))
        let unix = try SocketAddress(unixDomainSocketPath: "/tmp/x.sock")
        #expect(ClientAddress.resolve(peer: unix, forwardedFor: [], trustedProxies: Self.proxies).ip == nil)
    }
}

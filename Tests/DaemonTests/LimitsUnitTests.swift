import Atomics
import ChatContract
import Foundation
import Ingest
import NIOCore
import NIOPosix
import Testing

@testable import Gateway

/// The limits' logic without a daemon: token buckets, the violation rule, connection counting, the chat
/// policy and the topic list cache.
@Suite("limits: units")
struct LimitsUnitTests {
    /// Equal up to the rounding of a division in floating point.
    static func near(_ value: UInt64, _ expected: UInt64) -> Bool {
        value >= expected - 2 && value <= expected + 2
    }

    @Test("token bucket: starts full, refills at its rate up to the burst, one oversized cost passes from full")
    func tokenBucket() {
        var bucket = TokenBucket(perSecond: 100, burstSeconds: 0.5, now: 0)
        #expect(bucket.capacity == 50)
        for _ in 0..<50 {
            #expect(bucket.allows(1))
            bucket.take(1)
        }
        #expect(!bucket.allows(1))
        #expect(Self.near(bucket.nanosecondsUntilAllowed(1), 10_000_000))
        bucket.refill(now: 10_000_000)
        #expect(bucket.allows(1))
        bucket.refill(now: 60_000_000_000)
        #expect(bucket.tokens == 50 && bucket.isFull)
        // 80 is more than the whole bucket: it passes from a full bucket and leaves a debt.
        #expect(bucket.allows(80))
        bucket.take(80)
        #expect(!bucket.allows(1))
        #expect(Self.near(bucket.nanosecondsUntilAllowed(1), 310_000_000))
        #expect(Self.near(bucket.nanosecondsToFill, 500_000_000))
    }

    @Test("no rate configured: no per-connection limiter at all")
    func rateOff() {
        #expect(ConnectionRateLimit(GatewayLimits(), now: 0) == nil)
    }

    @Test("rate limit: a throttle starts a violation, a full refill forgives it, the close comes only after the grace")
    func violationRule() throws {
        let limits = GatewayLimits(messagesPerSecond: 10, burstSeconds: 1, rateViolationClose: .seconds(2))
        var rate = try #require(ConnectionRateLimit(limits, now: 0))
        var taken = 0
        while rate.take(bytes: 100) { taken += 1 }
        #expect(taken == 10)
        let closesAtOnce = rate.throttled(now: 0)
        #expect(!closesAtOnce)
        #expect(rate.isInViolation)
        // The client stops for a full second: both buckets full again, the violation is forgiven.
        rate.refill(now: 1_000_000_000)
        #expect(!rate.isInViolation)

        // Now it keeps sending as fast as it may: every refill is taken at once, the buckets never fill.
        var now: UInt64 = 1_000_000_000
        taken = 0
        while rate.take(bytes: 1) { taken += 1 }
        #expect(taken == 10)
        let closesNow = rate.throttled(now: now)
        #expect(!closesNow)
        var closedAt: UInt64?
        while closedAt == nil && now < 10_000_000_000 {
            now += rate.pauseNanoseconds(bytes: 1)
            rate.refill(now: now)
            while rate.take(bytes: 1) {}
            if rate.throttled(now: now) { closedAt = now }
        }
        // Closed once the violation is two seconds old, not before, not much after.
        let closed = try #require(closedAt)
        #expect(closed >= 3_000_000_000 && closed < 3_200_000_000)
    }

    @Test("rate limit: pauses are at least 10 ms, so a saturating client is resumed in batches")
    func pauseBatches() throws {
        let limits = GatewayLimits(messagesPerSecond: 10_000, burstSeconds: 1)
        var rate = try #require(ConnectionRateLimit(limits, now: 0))
        while rate.take(bytes: 10) {}
        #expect(rate.pauseNanoseconds(bytes: 10) == 10_000_000)
        let bytes = GatewayLimits(bytesPerSecond: 1000, burstSeconds: 1)
        var byteRate = try #require(ConnectionRateLimit(bytes, now: 0))
        // A 5000-byte message passes from the full 1000-byte bucket, then the debt takes 4 s to repay.
        let large = byteRate.take(bytes: 5000)
        let next = byteRate.take(bytes: 1)
        #expect(large && !next)
        #expect(Self.near(byteRate.pauseNanoseconds(bytes: 1), 4_001_000_000))
    }

    @Test("connection limiter: total and per client, released counts, entries removed at zero")
    func connectionLimiter() {
        let limiter = ConnectionLimiter(maxConnections: 5, maxPerClient: 2)
        let a = ClientKey(ipv4: 0xC000_0201)  // 192.0.2.1
        let b = ClientKey(ipv4: 0xC000_0202)
        #expect(limiter.admit(a) == .admitted)
        #expect(limiter.admit(a) == .admitted)
        #expect(limiter.admit(a) == .tooManyFromClient)
        #expect(limiter.connections == 2)
        #expect(limiter.admit(b) == .admitted)
        #expect(limiter.admit(b) == .admitted)
        #expect(limiter.admit(nil) == .admitted)  // no address (Unix socket): only the total counts
        #expect(limiter.admit(ClientKey(ipv4: 0xC000_0203)) == .tooManyConnections)
        #expect(limiter.connections == 5)
        limiter.release(a)
        #expect(limiter.connections(of: a) == 1)
        #expect(limiter.admit(a) == .admitted)
        for client in [a, a, b, b] { limiter.release(client) }
        limiter.release(nil)
        #expect(limiter.connections == 0)
        #expect(limiter.clients == 0)
    }

    @Test("client keys: IPv6 counts per /64, IPv4-mapped as IPv4, loopback only against the total")
    func clientKeys() throws {
        let one = ClientKey(ipv6: 0x2001_0db8_0000_0001_0000_0000_0000_0001)
        let sameNetwork = ClientKey(ipv6: 0x2001_0db8_0000_0001_ffff_ffff_ffff_fffe)
        let otherNetwork = ClientKey(ipv6: 0x2001_0db8_0000_0002_0000_0000_0000_0001)
        #expect(one == sameNetwork)
        #expect(one != otherNetwork)
        #expect(ClientKey(ipv6: 0xFFFF_C000_0201) == ClientKey(ipv4: 0xC000_0201))
        #expect(
            ClientKey(ipv4: 0x7F00_0001).isLoopback && ClientKey(ipv6: 1).isLoopback
                && ClientKey(ipv6: 0xFFFF_7F00_0001).isLoopback
        )
        #expect(!one.isLoopback && !ClientKey(ipv4: 0xC000_0201).isLoopback)
        let v4 = try #require(ClientKey(try SocketAddress(ipAddress: "192.0.2.7", port: 1)))
        #expect(v4 == ClientKey(ipv4: 0xC000_0207))
        let v6 = try #require(ClientKey(try SocketAddress(ipAddress: "2001:db8:0:1::99", port: 1)))
        #expect(v6 == one)

        let limiter = ConnectionLimiter(maxConnections: 4, maxPerClient: 1)
        let local = ClientKey(ipv4: 0x7F00_0001)
        #expect(limiter.admit(local) == .admitted)
        #expect(limiter.admit(local) == .admitted)
        #expect(limiter.admit(one) == .admitted)
        #expect(limiter.admit(sameNetwork) == .tooManyFromClient)
        #expect(limiter.admit(local) == .admitted)
        #expect(limiter.admit(local) == .tooManyConnections)
    }

    @Test(
        "chat policy: the default accepts every legal name; a pattern must match the whole name; allowlist; global always"
    )
    func chatPolicy() throws {
        let chat = { (name: String) in try TopicName.forChat(Substring(name)) }
        #expect(ChatPolicy().refusal(for: try chat("Any.legal_name-1")) == nil)
        #expect(try ChatPolicy(pattern: ChatPolicy.defaultPattern).acceptsEveryLegalName)

        let lower = try ChatPolicy(pattern: "[a-z]+(-[0-9]+)?")
        #expect(lower.refusal(for: try chat("room")) == nil)
        #expect(lower.refusal(for: try chat("room-12")) == nil)
        #expect(lower.refusal(for: try chat("Room"))?.contains("pattern") == true)
        #expect(lower.refusal(for: try chat("room-12x")) != nil)  // a prefix match is not enough
        #expect(lower.refusal(for: .global) == nil)

        let listed = try ChatPolicy(pattern: ChatPolicy.defaultPattern, allowedChats: ["alpha", "beta"])
        #expect(listed.refusal(for: try chat("alpha")) == nil)
        #expect(listed.refusal(for: try chat("gamma"))?.contains("not open") == true)
        #expect(listed.refusal(for: try chat("global")) == nil)

        #expect(throws: (any Error).self) { try ChatPolicy(pattern: "[unclosed") }
    }

    @Test("topic directory: one fetch serves the TTL and concurrent handshakes; a failure keeps the old list")
    func topicDirectory() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        let loop = group.next()
        let a = try TopicName.forChat("a")
        let c = try TopicName.forChat("c")

        // Ten handshakes at once while the list is being fetched: one request; then answers from the cache.
        let fetches = ManagedAtomic(0)
        let cached = TopicDirectory(ttl: .seconds(60), pool: pool) {
            fetches.wrappingIncrement(ordering: .relaxed)
            Thread.sleep(forTimeInterval: 0.05)
            return ["kafka.chat.a", "kafka.chat.b"]
        }
        let first = (0..<10).map { index in cached.lookUp(index.isMultiple(of: 2) ? a : c, on: loop) }
        let answers = try await EventLoopFuture.whenAllSucceed(first, on: loop).get()
        #expect(answers == (0..<10).map { $0.isMultiple(of: 2) ? TopicExistence.exists : .missing })
        #expect(try await cached.lookUp(.global, on: loop).get() == .missing)
        #expect(fetches.load(ordering: .relaxed) == 1)

        // A TTL of zero fetches every time; a failed fetch keeps the previous list.
        let failing = ManagedAtomic(false)
        let refetched = ManagedAtomic(0)
        let fresh = TopicDirectory(ttl: .zero, pool: pool) {
            refetched.wrappingIncrement(ordering: .relaxed)
            return failing.load(ordering: .relaxed) ? nil : ["kafka.chat.a"]
        }
        #expect(try await fresh.lookUp(a, on: loop).get() == .exists)
        failing.store(true, ordering: .relaxed)
        #expect(try await fresh.lookUp(a, on: loop).get() == .exists)
        #expect(refetched.load(ordering: .relaxed) == 2)

        // Without any list, the answer is unknown, and retries are at most once a second.
        let attempts = ManagedAtomic(0)
        let unreachable = TopicDirectory(ttl: .seconds(10), pool: pool) {
            attempts.wrappingIncrement(ordering: .relaxed)
            return nil
        }
        #expect(try await unreachable.lookUp(a, on: loop).get() == .unknown)
        #expect(try await unreachable.lookUp(a, on: loop).get() == .unknown)
        #expect(attempts.load(ordering: .relaxed) == 1)
        try await pool.shutdownGracefully()
        try await group.shutdownGracefully()
    }
}

/// A CIDR block (`10.0.0.0/8`, `fd00::/8`) or a single address, as `http.trusted_proxies` lists them.
public struct AddressBlock: Hashable, Sendable, CustomStringConvertible {
    public let network: IPAddress
    public let prefixLength: Int

    /// nil when the text is not an address or `address/prefix` with a prefix that fits the family.
    /// Host bits below the prefix are cleared, so `10.1.2.3/8` means `10.0.0.0/8`.
    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = IPAddress(parts[0]) else { return nil }
        var length = address.bitWidth
        if parts.count == 2 {
            guard let value = Int(parts[1]), (0...address.bitWidth).contains(value) else { return nil }
            length = value
        }
        self.prefixLength = length
        let masked = address.bits & Self.mask(length, width: address.bitWidth)
        self.network = address.isIPv4 ? IPAddress(ipv4: UInt32(masked)) : IPAddress(ipv6: masked)
    }

    public func contains(_ address: IPAddress) -> Bool {
        address.isIPv4 == self.network.isIPv4
            && address.bits & Self.mask(self.prefixLength, width: address.bitWidth) == self.network.bits
    }

    public var description: String { "\(self.network)/\(self.prefixLength)" }

    private static func mask(_ length: Int, width: Int) -> UInt128 {
        guard length > 0 else { return 0 }
        let ones: UInt128 = width == 32 ? UInt128(UInt32.max) : .max
        return ones & (ones << (width - length))
    }
}

import Foundation

/// The reverse proxies whose `X-Forwarded-For` is believed (`http.trusted_proxies`). From anyone else
/// the header is ignored: a client could write any address into it.
public struct TrustedProxies: Sendable, Equatable {
    public let blocks: [AddressBlock]

    public static let none = TrustedProxies(blocks: [])

    public init(blocks: [AddressBlock]) {
        self.blocks = blocks
    }

    /// Comma-separated addresses and CIDR blocks; empty trusts no one.
    public static func parse(_ text: String) throws(AccessSetupError) -> TrustedProxies {
        var blocks: [AddressBlock] = []
        for item in text.split(separator: ",") {
            let trimmed = item.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty else { continue }
            guard let block = AddressBlock(trimmed) else {
                throw AccessSetupError(
                    "\"\(trimmed)\" is not an IP address or CIDR block (e.g. 127.0.0.1, 10.0.0.0/8, ::1)"
                )
            }
            blocks.append(block)
        }
        return TrustedProxies(blocks: blocks)
    }

    public var isEmpty: Bool { self.blocks.isEmpty }

    public func contains(_ address: IPAddress) -> Bool {
        self.blocks.contains { $0.contains(address) }
    }
}

import Foundation
import NIOHTTP1

/// Which web pages may open a WebSocket here (`http.allowed_origins`, `http.require_origin`).
///
/// Browsers send the page's origin with every WebSocket handshake and, unlike with `fetch`, enforce
/// nothing themselves: without this check any site a user visits could open connections to the daemon
/// from the user's browser (cross-site WebSocket hijacking). Non-browser clients send no `Origin`; they
/// pass unless `requireOrigin` is set.
public struct OriginPolicy: Sendable, Equatable {
    /// nil: any origin (`*`).
    public let allowed: Set<String>?
    public let requireOrigin: Bool

    public static let any = OriginPolicy(allowed: nil, requireOrigin: false)

    public init(allowed: Set<String>?, requireOrigin: Bool) {
        self.allowed = allowed
        self.requireOrigin = requireOrigin
    }

    /// `*`, or comma-separated origins as browsers send them: `scheme://host[:port]` (or `null`).
    public static func parse(_ text: String, requireOrigin: Bool) throws(AccessSetupError) -> OriginPolicy {
        let items = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !items.isEmpty else { throw AccessSetupError("lists no origin; use * to allow any") }
        if items.contains("*") {
            guard items.count == 1 else { throw AccessSetupError("* cannot be combined with other origins") }
            return OriginPolicy(allowed: nil, requireOrigin: requireOrigin)
        }
        var allowed = Set<String>()
        for item in items {
            guard let origin = self.normalized(item) else {
                throw AccessSetupError(
                    "\"\(item)\" is not an origin: expected scheme://host[:port] without a path, e.g. https://chat.example.com"
                )
            }
            allowed.insert(origin)
        }
        return OriginPolicy(allowed: allowed, requireOrigin: requireOrigin)
    }

    /// Lowercased, without a trailing `/`; nil when it has a path, query, user info or no host.
    static func normalized(_ text: String) -> String? {
        var origin = text.lowercased()
        if origin == "null" { return origin }
        if origin.hasSuffix("/") { origin.removeLast() }
        guard let range = origin.range(of: "://") else { return nil }
        let scheme = origin[..<range.lowerBound]
        let authority = origin[range.upperBound...]
        guard !scheme.isEmpty, scheme.allSatisfy({ $0.isLetter || $0.isNumber || "+-.".contains($0) }),
            !authority.isEmpty, !authority.contains(where: { "/?#@ ".contains($0) })
        else { return nil }
        return origin
    }

    /// True when nothing is ever refused, so the handshake need not look at `Origin` at all.
    public var isOpen: Bool { self.allowed == nil && !self.requireOrigin }

    /// nil when the handshake may go on; otherwise what to tell the client.
    public func refusal(for headers: HTTPHeaders) -> String? {
        if self.isOpen { return nil }
        let origins = headers["origin"]
        guard let origin = origins.first else {
            return self.requireOrigin ? "an Origin header is required" : nil
        }
        guard origins.count == 1 else { return "more than one Origin header" }
        guard let allowed = self.allowed else { return nil }
        // Exact match after lowercasing: browsers serialize scheme and host in lowercase already.
        return allowed.contains(origin.lowercased()) ? nil : "pages of this origin may not connect"
    }
}

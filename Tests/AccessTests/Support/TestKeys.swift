import Foundation
import JWTKit

/// Keys for the JWT tests. The RSA pair is made by `openssl genrsa` once per test run, the way an
/// operator makes one, so the PEM files the daemon reads are exercised as well.
enum TestKeys {
    static let hs256Secret = Array("0123456789abcdef0123456789abcdef-test-secret".utf8)

    struct RSAPair: Sendable {
        let privatePEM: String
        let publicPEM: String
    }

    /// Thrown by `rsa` when openssl is missing or fails, so only the tests that need the key fail.
    struct ToolFailed: Error, CustomStringConvertible {
        let description: String
    }

    static var rsa: RSAPair {
        get throws { try self.generated.get() }
    }

    private static let generated = Result<RSAPair, any Error> {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "kcp-rsa-\(UUID().uuidString.prefix(8))"
        )
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let privatePath = directory.appendingPathComponent("private.pem").path
        let publicPath = directory.appendingPathComponent("public.pem").path
        try run("openssl", ["genrsa", "-out", privatePath, "2048"])
        try run("openssl", ["rsa", "-in", privatePath, "-pubout", "-out", publicPath])
        return RSAPair(
            privatePEM: try String(contentsOfFile: privatePath, encoding: .utf8),
            publicPEM: try String(contentsOfFile: publicPath, encoding: .utf8)
        )
    }

    private static func run(_ tool: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [tool] + arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ToolFailed(
                description:
                    "\(tool) \(arguments.joined(separator: " ")) failed; is openssl installed (scripts/install-deps)?"
            )
        }
    }

    /// A token signed the way an identity provider would, with jwt-kit's own signing.
    static func hs256Token(_ claims: ChatTokenClaimsFixture, secret: [UInt8] = hs256Secret) async throws -> String {
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
        return try await keys.sign(claims)
    }

    static func rs256Token(_ claims: ChatTokenClaimsFixture) async throws -> String {
        let keys = JWTKeyCollection()
        await keys.add(rsa: try Insecure.RSA.PrivateKey(pem: try rsa.privatePEM), digestAlgorithm: .sha256)
        return try await keys.sign(claims)
    }

    /// `alg: none`, which must never be accepted.
    static func unsignedToken(_ claims: ChatTokenClaimsFixture) throws -> String {
        let header = base64URL(Data(#"{"alg":"none","typ":"JWT"}"#.utf8))
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .secondsSince1970
        return header + "." + base64URL(try encoder.encode(claims)) + "."
    }

    static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}

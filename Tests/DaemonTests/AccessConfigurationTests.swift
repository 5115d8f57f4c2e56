import Daemon
import Foundation
import Testing

/// The `http.*` and `auth.*` keys: every bad value or unreadable file stops the daemon at startup with
/// the key that named it, and no message ever quotes a token or a secret.
@Suite("configuration: access control keys")
struct AccessConfigurationTests {
    static let bootstrap: [(key: String, value: String)] = [("kafka.bootstrap_servers", "127.0.0.1:1")]

    static func load(_ overrides: [(key: String, value: String)]) throws(ConfigurationError) -> DaemonConfiguration {
        try ConfigurationLoader.load(file: nil, environment: [:], overrides: Self.bootstrap + overrides)
    }

    static func error(_ overrides: [(key: String, value: String)]) -> ConfigurationError? {
        do {
            _ = try Self.load(overrides)
            return nil
        } catch {
            return error
        }
    }

    @Test("off by default: any origin, no trusted proxy, no token")
    func defaults() throws {
        let configuration = try Self.load([])
        #expect(configuration.allowedOrigins == "*")
        #expect(!configuration.requireOrigin)
        #expect(configuration.trustedProxies.isEmpty)
        #expect(
            configuration.authTokensFile.isEmpty && configuration.jwtHS256SecretFile.isEmpty
                && configuration.jwtRS256PublicKeyFile.isEmpty
        )
    }

    @Test("environment variables and lists")
    func environment() throws {
        let configuration = try ConfigurationLoader.load(
            file: nil,
            environment: [
                "KCP_HTTP_ALLOWED_ORIGINS": "https://a.example, https://b.example:8443",
                "KCP_HTTP_TRUSTED_PROXIES": "127.0.0.1,10.0.0.0/8",
            ],
            overrides: Self.bootstrap
        )
        #expect(configuration.allowedOrigins == "https://a.example, https://b.example:8443")
        #expect(configuration.trustedProxies == "127.0.0.1,10.0.0.0/8")
    }

    @Test(
        "bad values name their key",
        arguments: [
            ("http.allowed_origins", "chat.example.com", "http.allowed_origins"),
            ("http.allowed_origins", "", "http.allowed_origins"),
            ("http.trusted_proxies", "nginx.local", "http.trusted_proxies"),
            ("auth.tokens_file", "/nonexistent/kcp-tokens", "auth.tokens_file"),
            ("auth.jwt_rs256_public_key_file", "/nonexistent/kcp.pem", "auth.jwt_rs256_public_key_file"),
            ("auth.jwt_leeway_seconds", "3600", "auth.jwt_leeway_seconds"),
        ]
    )
    func badValues(key: String, value: String, expected: String) {
        #expect(Self.error([(key, value)])?.key == expected)
    }

    @Test("token and key files: bad contents are refused without quoting them")
    func files() throws {
        let credentials = try TestCredentials()
        defer { credentials.remove() }
        try credentials.writeTokens(["good-token-0123456789abcdef chat-a", "short-secret"])
        let tokenError = try #require(Self.error([("auth.tokens_file", credentials.tokensFile.path)]))
        #expect(tokenError.key == "auth.tokens_file")
        #expect(tokenError.message.contains("line 2") && tokenError.message.contains(credentials.tokensFile.path))
        #expect(!tokenError.message.contains("short-secret") && !tokenError.message.contains("good-token"))

        let shortSecret = credentials.directory.appendingPathComponent("short.secret")
        try "short-secret\n".write(to: shortSecret, atomically: true, encoding: .utf8)
        let secretError = try #require(
            Self.error([("auth.jwt_hs256_secret_file", shortSecret.path), ("auth.jwt_audience", "x")])
        )
        #expect(secretError.key == "auth.jwt_hs256_secret_file")
        #expect(!secretError.message.contains("short-secret"))

        let notPEM = credentials.directory.appendingPathComponent("key.pem")
        try "-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----\n".write(
            to: notPEM,
            atomically: true,
            encoding: .utf8
        )
        #expect(
            Self.error([("auth.jwt_rs256_public_key_file", notPEM.path), ("auth.jwt_audience", "x")])?.key
                == "auth.jwt_rs256_public_key_file"
        )
    }

    @Test("a JWT key needs an audience; an RS256 key made by openssl loads")
    func jwtKeys() async throws {
        let credentials = try TestCredentials()
        defer { credentials.remove() }
        #expect(Self.error([("auth.jwt_hs256_secret_file", credentials.secretFile.path)])?.key == "auth.jwt_audience")
        let privateKey = credentials.directory.appendingPathComponent("private.pem").path
        let publicKey = credentials.directory.appendingPathComponent("public.pem").path
        #expect(try await ToolRun.run("openssl", ["genrsa", "-out", privateKey, "2048"]).status == 0)
        #expect(try await ToolRun.run("openssl", ["rsa", "-in", privateKey, "-pubout", "-out", publicKey]).status == 0)
        let configuration = try Self.load([
            ("auth.jwt_rs256_public_key_file", publicKey), ("auth.jwt_audience", "chat-service"),
            ("auth.jwt_issuer", "https://id.example.com"),
        ])
        #expect(configuration.jwtRS256PublicKeyFile == publicKey)
        #expect(ConfigurationLoader.render(configuration).contains("auth.jwt_rs256_public_key_file = \(publicKey)\n"))
    }
}

extension IntegrationTests.CommandLine {
    @Test("an unreadable auth.tokens_file stops the daemon with exit code 78, naming the key")
    func missingTokensFile() async throws {
        let (status, output) = try await DaemonProcess.run([
            "--bootstrap-servers", "127.0.0.1:1", "--set", "auth.tokens_file=/nonexistent/kcp-tokens",
        ])
        #expect(status == 78)
        #expect(output.contains("auth.tokens_file"), "\(output)")
    }
}

import Access
import Foundation

/// Turns the `http.*` and `auth.*` keys into the gateway's access settings: parses the origin and proxy
/// lists and reads the token and key files — at start-up and on a reload, never per connection. Every problem is
/// reported under the key that named it (and never quotes a token or a secret).
enum AccessSettingsLoader {
    static func load(_ configuration: DaemonConfiguration) throws(ConfigurationError) -> AccessSettings {
        var settings = AccessSettings()
        settings.origins = try self.check("http.allowed_origins") { () throws(AccessSetupError) in
            try OriginPolicy.parse(configuration.allowedOrigins, requireOrigin: configuration.requireOrigin)
        }
        settings.trustedProxies = try self.check("http.trusted_proxies") { () throws(AccessSetupError) in
            try TrustedProxies.parse(configuration.trustedProxies)
        }

        if !configuration.authTokensFile.isEmpty {
            let key = "auth.tokens_file"
            let contents = try self.read(configuration.authTokensFile, key: key)
            settings.tokens = try self.check(key) { () throws(AccessSetupError) in
                do throws(AccessSetupError) {
                    return try StaticTokenSet.parse(String(decoding: contents, as: UTF8.self))
                } catch {
                    throw AccessSetupError("\(configuration.authTokensFile): \(error.message)")
                }
            }
        }
        if !configuration.jwtHS256SecretFile.isEmpty {
            let key = "auth.jwt_hs256_secret_file"
            let contents = try self.read(configuration.jwtHS256SecretFile, key: key)
            try self.check(key) { () throws(AccessSetupError) in
                try settings.jwtKeys.setHS256Secret(fileContents: Array(contents))
            }
        }
        if !configuration.jwtRS256PublicKeyFile.isEmpty {
            let key = "auth.jwt_rs256_public_key_file"
            let contents = try self.read(configuration.jwtRS256PublicKeyFile, key: key)
            try self.check(key) { () throws(AccessSetupError) in
                try settings.jwtKeys.setRS256PublicKey(pem: String(decoding: contents, as: UTF8.self))
            }
        }
        if !settings.jwtKeys.isEmpty && configuration.jwtAudience.isEmpty {
            throw ConfigurationError(
                key: "auth.jwt_audience",
                message:
                    "required with a JWT key: without it a token the same issuer minted for another service would be accepted"
            )
        }
        settings.jwtAudience = configuration.jwtAudience
        settings.jwtIssuer = configuration.jwtIssuer.isEmpty ? nil : configuration.jwtIssuer
        settings.jwtLeewaySeconds = configuration.jwtLeewaySeconds
        return settings
    }

    private static func check<T>(
        _ key: String,
        _ body: () throws(AccessSetupError) -> T
    ) throws(ConfigurationError) -> T {
        do {
            return try body()
        } catch {
            throw ConfigurationError(key: key, message: error.message)
        }
    }

    private static func read(_ path: String, key: String) throws(ConfigurationError) -> Data {
        do {
            return try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw ConfigurationError(key: key, message: "cannot read \(path): \(error.localizedDescription)")
        }
    }
}

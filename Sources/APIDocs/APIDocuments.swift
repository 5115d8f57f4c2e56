import Crypto
import FoundationEssentials

/// The interface description the daemon serves: the AsyncAPI 3.0 document (`/asyncapi.json`), the
/// `/docs` page that renders it and carries the console, and the JavaScript client the console sends with.
///
/// The files live in `Resources/` and are compiled into the binary (`.embedInCode`), so a host without
/// internet access, or an installed self-contained binary, serves them with nothing else on disk.
public enum APIDocuments {
    /// `Resources/asyncapi.json`, byte for byte.
    public static var asyncAPI: [UInt8] { PackageResources.asyncapi_json }

    /// `Resources/docs.html`, byte for byte.
    public static var docsPage: [UInt8] { PackageResources.docs_html }

    /// The JavaScript client (`clients/javascript/kafka-chat-producer-client.js`, which
    /// `Resources/kafka-chat-producer-client.js` links to), served at `/docs/kafka-chat-producer-client.js`:
    /// the console imports it, and so can any page.
    public static var clientModule: [UInt8] { PackageResources.kafka_chat_producer_client_js }

    /// A strong validator for a document's bytes, for `ETag` / `If-None-Match`.
    public static func entityTag(of bytes: [UInt8]) -> String {
        let digest = SHA256.hash(data: bytes)
        return "\""
            + digest.prefix(12).map { byte in
                let hex = String(byte, radix: 16)
                return byte < 16 ? "0" + hex : hex
            }.joined() + "\""
    }

    /// The page's Content-Security-Policy: nothing may load from anywhere else, and the page's one inline
    /// `<script>` and one inline `<style>` are allowed by their SHA-256 (no `'unsafe-inline'`), so an
    /// injected script or style attribute would not run. Scripts from the daemon itself (`'self'`) may
    /// load: the console imports the JavaScript client from `/docs/kafka-chat-producer-client.js`; the
    /// daemon serves no other script (`/asyncapi.json` is JSON with `nosniff`, which browsers refuse to
    /// run). `connect-src 'self'` covers the console's `fetch` calls and its WebSocket to the same host.
    public static func contentSecurityPolicy(forPage page: [UInt8]) -> String {
        let script = self.inlineBlock("script", in: page).map(self.sourceHash) ?? "'none'"
        let style = self.inlineBlock("style", in: page).map(self.sourceHash) ?? "'none'"
        return
            "default-src 'none'; script-src \(script) 'self'; style-src \(style); connect-src 'self'; img-src 'self' data:; "
            + "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    }

    /// The text between the first `<tag>` (no attributes) and the next `</tag>`, as the browser hashes it.
    static func inlineBlock(_ tag: String, in page: [UInt8]) -> ArraySlice<UInt8>? {
        let open = Array("<\(tag)>".utf8)
        let close = Array("</\(tag)>".utf8)
        guard let start = self.firstIndex(of: open, in: page[...]) else { return nil }
        let contentStart = start + open.count
        guard let end = self.firstIndex(of: close, in: page[contentStart...]) else { return nil }
        return page[contentStart..<end]
    }

    private static func firstIndex(of needle: [UInt8], in haystack: ArraySlice<UInt8>) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        var index = haystack.startIndex
        while index <= haystack.endIndex - needle.count {
            if haystack[index..<(index + needle.count)].elementsEqual(needle) { return index }
            index += 1
        }
        return nil
    }

    private static func sourceHash(_ content: ArraySlice<UInt8>) -> String {
        "'sha256-" + Data(SHA256.hash(data: content)).base64EncodedString() + "'"
    }
}

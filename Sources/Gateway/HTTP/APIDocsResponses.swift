import APIDocs
import NIOCore

/// The `/docs` page, `/asyncapi.json` and the JavaScript client, prepared once at start-up: bodies, entity
/// tags and the page's Content-Security-Policy, so serving them costs a buffer copy-on-write reference.
struct APIDocsResponses: Sendable {
    struct Document: Sendable {
        let body: ByteBuffer
        let contentType: String
        let entityTag: String
        let headers: [(String, String)]

        /// Whether an `If-None-Match` header names this version (or `*`), so a 304 will do.
        func matches(ifNoneMatch values: [String]) -> Bool {
            values.contains { value in
                value.split(separator: ",").contains { candidate in
                    let tag = candidate.drop { $0 == " " }.reversed().drop { $0 == " " }.reversed()
                    return String(tag) == self.entityTag || String(tag) == "*"
                }
            }
        }
    }

    let page: Document
    let asyncAPI: Document
    let clientModule: Document

    init() {
        let page = APIDocuments.docsPage
        self.page = Document(
            body: ByteBuffer(bytes: page),
            contentType: "text/html; charset=utf-8",
            entityTag: APIDocuments.entityTag(of: page),
            headers: [
                ("Content-Security-Policy", APIDocuments.contentSecurityPolicy(forPage: page)),
                ("X-Content-Type-Options", "nosniff"),
                ("Referrer-Policy", "no-referrer"),
            ]
        )
        let document = APIDocuments.asyncAPI
        self.asyncAPI = Document(
            body: ByteBuffer(bytes: document),
            contentType: "application/json",
            entityTag: APIDocuments.entityTag(of: document),
            // A public description of the interface: tools on other origins (AsyncAPI Studio) may read it.
            headers: [("Access-Control-Allow-Origin", "*"), ("X-Content-Type-Options", "nosniff")]
        )
        let module = APIDocuments.clientModule
        self.clientModule = Document(
            body: ByteBuffer(bytes: module),
            contentType: "text/javascript; charset=utf-8",
            entityTag: APIDocuments.entityTag(of: module),
            // Public code: a page on another origin may import it (module scripts need CORS for that).
            headers: [("Access-Control-Allow-Origin", "*"), ("X-Content-Type-Options", "nosniff")]
        )
    }
}

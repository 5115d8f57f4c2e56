import Access
import NIOHTTP1
import Testing

@Suite("finding the bearer token of a handshake")
struct BearerCredentialTests {
    @Test("Authorization: Bearer, any case of the scheme")
    func header() {
        #expect(
            BearerCredential.find(uri: "/x", headers: ["Authorization": "Bearer abc.def-ghi"])
                == .success("abc.def-ghi")
        )
        #expect(BearerCredential.find(uri: "/x", headers: ["authorization": "bearer  tok"]) == .success("tok"))
        #expect(
            BearerCredential.find(uri: "/x", headers: ["Authorization": "Basic dXNlcjpwYXNz"]) == .failure(.notBearer)
        )
        #expect(BearerCredential.find(uri: "/x", headers: ["Authorization": "Bearer"]) == .failure(.notBearer))
        #expect(BearerCredential.find(uri: "/x", headers: [:]) == .success(nil))
    }

    @Test("access_token query parameter, percent-decoded, + kept")
    func query() {
        #expect(
            BearerCredential.find(uri: "/x?ack=1&access_token=a%2Bb%2Fc%3D&z=1", headers: [:]) == .success("a+b/c=")
        )
        #expect(BearerCredential.find(uri: "/x?access_token=a+b", headers: [:]) == .success("a+b"))
        #expect(BearerCredential.find(uri: "/x?access_token=%zz", headers: [:]) == .failure(.malformed))
        #expect(BearerCredential.find(uri: "/x?access_token=", headers: [:]) == .failure(.malformed))
        #expect(BearerCredential.find(uri: "/x?access_token", headers: [:]) == .failure(.malformed))
        #expect(BearerCredential.find(uri: "/x?my_access_token=t", headers: [:]) == .success(nil))
    }

    @Test("two credentials are refused rather than one picked")
    func ambiguous() {
        #expect(
            BearerCredential.find(uri: "/x?access_token=a", headers: ["Authorization": "Bearer a"])
                == .failure(.ambiguous)
        )
        #expect(BearerCredential.find(uri: "/x?access_token=a&access_token=b", headers: [:]) == .failure(.ambiguous))
        var two = HTTPHeaders()
        two.add(name: "Authorization", value: "Bearer a")
        two.add(name: "Authorization", value: "Bearer b")
        #expect(BearerCredential.find(uri: "/x", headers: two) == .failure(.ambiguous))
    }

    @Test("oversized tokens are refused before any work")
    func oversized() {
        let huge = String(repeating: "a", count: BearerCredential.maxLength + 1)
        #expect(BearerCredential.find(uri: "/x?access_token=\(huge)", headers: [:]) == .failure(.malformed))
    }

    @Test("b64token characters")
    func charset() {
        #expect(BearerCredential.isToken("A-z0.9_~+/=="))
        #expect(!BearerCredential.isToken("a=b"))
        #expect(!BearerCredential.isToken("a b"))
        #expect(!BearerCredential.isToken(""))
    }
}

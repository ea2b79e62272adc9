import CryptoExtras
import Foundation
import JWTKit
import Pixeltable
import PixeltableTestSupport
import Testing
@testable import PixeltableServing

/// `[service.auth]`: API keys (bearer and header, route scopes), JSON Web Tokens (HS256, RS256,
/// ES256; expiry, not-before, issuer, audience), public paths and signed media URLs, through a
/// real server.
@Suite struct AuthTests {
    static let key = "k-0123456789abcdef0123456789abcdef"
    static let scopedKey = "s-0123456789abcdef0123456789abcdef"
    static let secret = "a-jwt-secret-of-at-least-thirty-two-bytes"

    func json(_ key: String? = nil, header: String = "Authorization", _ extra: [String: String] = [:]) -> [String: String] {
        var h = ["Content-Type": "application/json"].merging(extra) { $1 }
        if let key { h[header] = header == "Authorization" ? "Bearer \(key)" : key }
        return h
    }

    func configuration(_ auth: ServiceAuth) -> ServiceRouter.Configuration {
        var c = ServiceRouter.Configuration()
        c.auth = auth
        return c
    }

    @Test func apiKeysAsBearerOrHeaderWithRouteScopesAndPublicPaths() async throws {
        try await withService { cat in
            let t = try await makeFilms(cat)
            let auth = ServiceAuth(apiKeys: [APIKey(Self.key), APIKey(Self.scopedKey, routes: ["/films/delete"])], publicPaths: ["/docs", "/openapi.json"])
            let router = try ServiceRouter(catalog: cat, configuration: configuration(auth))
            try await router.addInsertRoute(t, path: "/films", inputs: ["id", "title"])
            try await router.addDeleteRoute(t, path: "/films/delete")
            let s = try await RunningServer.start(router)
            defer { Task { await s.stop() } }
            let body = Array(#"{"id": 1, "title": "Alien"}"#.utf8)

            // No credentials: 401 with the challenge, nothing stored.
            let none = try await rawHTTP(s.port, "POST", "/films", headers: json(), body: body)
            #expect(none.status == 401, "\(none.text)")
            #expect(none.headers["www-authenticate"] == "Bearer")
            #expect(try JSONParser.parse(bytes: none.body)["detail"] == "Not authenticated")
            // Wrong key, a key's prefix, another scheme: 401 invalid_token.
            for bad in [["Authorization": "Bearer wrong"], ["Authorization": "Bearer \(Self.key.dropLast())"], ["X-API-Key": "wrong"], ["Authorization": "Basic \(Self.key)"]] {
                let r = try await rawHTTP(s.port, "POST", "/films", headers: json(nil, bad), body: body)
                #expect(r.status == 401, "\(bad): \(r.text)")
                if bad["Authorization"]?.hasPrefix("Basic") != true { #expect(r.headers["www-authenticate"] == "Bearer error=\"invalid_token\"", "\(bad)") }
            }
            #expect(try await t.count() == 0)

            // The key as a bearer token (scheme in any case) or in X-API-Key.
            #expect(try await rawHTTP(s.port, "POST", "/films", headers: json(Self.key), body: body).status == 200)
            #expect(try await rawHTTP(s.port, "POST", "/films", headers: json(Self.key, header: "X-API-Key"), body: Array(#"{"id": 2, "title": "Heat"}"#.utf8)).status == 200)
            #expect(try await rawHTTP(s.port, "POST", "/films", headers: json(nil, ["Authorization": "bearer \(Self.key)"]), body: Array(#"{"id": 3, "title": "Ran"}"#.utf8)).status == 200)
            #expect(try await t.count() == 3)

            // A scoped key: its route only (403 elsewhere), and the built-ins.
            let forbidden = try await rawHTTP(s.port, "POST", "/films", headers: json(Self.scopedKey), body: Array(#"{"id": 4, "title": "Up"}"#.utf8))
            #expect(forbidden.status == 403, "\(forbidden.text)")
            #expect(forbidden.text.contains("/films"))
            let deleted = try await rawHTTP(s.port, "POST", "/films/delete", headers: json(Self.scopedKey), body: Array(#"{"id": 3}"#.utf8))
            #expect(deleted.status == 200, "\(deleted.text)")
            #expect(try await t.count() == 2)

            // Public paths need nothing; job status does.
            #expect(try await rawHTTP(s.port, "GET", "/openapi.json").status == 200)
            #expect(try await rawHTTP(s.port, "GET", "/docs").status == 200)
            #expect(try await rawHTTP(s.port, "GET", "/jobs/nope").status == 401)
            #expect(try await rawHTTP(s.port, "GET", "/jobs/nope", headers: ["X-API-Key": Self.scopedKey]).status == 404)
            // Another method on a route is still refused for want of credentials first.
            #expect(try await rawHTTP(s.port, "GET", "/films").status == 401)
        }
    }

    /// Credentials are checked before the body is read: a body over the size limit sent without
    /// them is a 401, not a 413, and the connection is closed rather than drained.
    @Test func credentialsAreCheckedBeforeTheBody() async throws {
        try await withService { cat in
            let t = try await makeFilms(cat)
            let router = try ServiceRouter(catalog: cat, configuration: configuration(ServiceAuth(apiKeys: [APIKey(Self.key)])))
            try await router.addInsertRoute(t, path: "/films", inputs: ["id", "title"])
            let s = try await RunningServer.start(router)
            defer { Task { await s.stop() } }
            let port = s.port
            let (reply, closed) = await offPool { () -> (String, Bool) in
                guard let c = try? RawConnection(port: port) else { return ("", false) }
                defer { c.close() }
                // Announce 64 MiB, send only the headers and 1 MiB.
                _ = c.send("POST /films HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 67108864\r\n\r\n")
                c.send([UInt8](repeating: 0x20, count: 1 << 20))
                let r = c.read(for: 5)
                return (String(decoding: r.bytes, as: UTF8.self), r.closed)
            }
            #expect(reply.hasPrefix("HTTP/1.1 401"), "\(reply.prefix(200))")
            #expect(closed, "the connection of a refused body is closed")
        }
    }

    /// A client that waits for `100 Continue` gets the final 401 instead when its credentials
    /// are refused, and never sends the body; a good key gets the 100 and then its answer.
    @Test func expectContinueIsNotSentToARefusedRequest() async throws {
        try await withService { cat in
            let t = try await makeFilms(cat)
            let router = try ServiceRouter(catalog: cat, configuration: configuration(ServiceAuth(apiKeys: [APIKey(Self.key)])))
            try await router.addInsertRoute(t, path: "/films", inputs: ["id", "title"])
            let s = try await RunningServer.start(router)
            defer { Task { await s.stop() } }
            let port = s.port
            let body = #"{"id": 1, "title": "Alien"}"#
            let (refused, accepted) = await offPool { () -> (String, [String]) in
                func head(_ key: String?) -> String {
                    "POST /films HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\nExpect: 100-continue\r\n"
                        + (key.map { "X-API-Key: \($0)\r\n" } ?? "") + "\r\n"
                }
                guard let a = try? RawConnection(port: port), let b = try? RawConnection(port: port) else { return ("", []) }
                defer { a.close(); b.close() }
                a.send(head("wrong"))
                let first = a.readResponse()?.status ?? ""
                b.send(head(Self.key))
                let interim = b.readResponse()?.status ?? ""
                b.send(body)
                return (first, [interim, b.readResponse()?.status ?? ""])
            }
            #expect(refused == "HTTP/1.1 401 Unauthorized", "\(refused)")
            #expect(accepted == ["HTTP/1.1 100 Continue", "HTTP/1.1 200 OK"], "\(accepted)")
            #expect(try await t.count() == 1)
        }
    }

    func token(_ claims: TestClaims, keys: JWTKeyCollection) async throws -> String {
        try await keys.sign(claims)
    }

    @Test func hs256TokensWithExpiryNotBeforeIssuerAndAudience() async throws {
        try await withService { cat in
            let t = try await makeFilms(cat)
            let auth = ServiceAuth(jwt: JWTSettings(secret: Self.secret, issuer: "pxt-tests", audience: "films"))
            let router = try ServiceRouter(catalog: cat, configuration: configuration(auth))
            try await router.addInsertRoute(t, path: "/films", inputs: ["id", "title"])
            let s = try await RunningServer.start(router)
            defer { Task { await s.stop() } }
            let keys = JWTKeyCollection()
            await keys.add(hmac: HMACKey(from: Self.secret), digestAlgorithm: .sha256)
            let other = JWTKeyCollection()
            await other.add(hmac: HMACKey(from: "another-secret-of-at-least-thirty-two-bytes"), digestAlgorithm: .sha256)
            let now = Date()
            let good = TestClaims(exp: now + 600, iss: "pxt-tests", aud: ["films"])
            var n = 0
            func post(_ token: String) async throws -> LoopbackHTTP.Response {
                n += 1
                return try await rawHTTP(s.port, "POST", "/films", headers: json(token), body: Array(#"{"id": \#(n), "title": "Alien"}"#.utf8))
            }
            #expect(try await post(try await token(good, keys: keys)).status == 200)
            let cases: [(TestClaims, JWTKeyCollection, String)] = [
                (TestClaims(exp: now - 60, iss: "pxt-tests", aud: ["films"]), keys, "expired"),
                (TestClaims(exp: now + 600, nbf: now + 300, iss: "pxt-tests", aud: ["films"]), keys, "not valid yet"),
                (TestClaims(exp: now + 600, iss: "someone-else", aud: ["films"]), keys, "issuer"),
                (TestClaims(exp: now + 600, iss: "pxt-tests", aud: ["music"]), keys, "audience"),
                (TestClaims(exp: nil, iss: "pxt-tests", aud: ["films"]), keys, "exp"),
                (good, other, "signature"),
            ]
            for (claims, signer, reason) in cases {
                let r = try await post(try await token(claims, keys: signer))
                #expect(r.status == 401, "\(reason): \(r.text)")
                #expect(r.text.contains(reason), "\(reason): \(r.text)")
                #expect(r.headers["www-authenticate"] == "Bearer error=\"invalid_token\"")
            }
            // An unsigned token ("alg": "none") and a tampered payload.
            let header = Base64URL.encode(Array(#"{"alg":"none","typ":"JWT"}"#.utf8))
            let payload = Base64URL.encode(Array(#"{"exp":\#(Int(now.timeIntervalSince1970) + 600),"iss":"pxt-tests","aud":"films"}"#.utf8))
            #expect(try await post("\(header).\(payload).").status == 401)
            let parts = try await token(good, keys: keys).split(separator: ".")
            #expect(try await post("\(parts[0]).\(payload).\(parts[2])").status == 401)
            #expect(try await t.count() == 1)
        }
    }

    /// RS256 and ES256 keys from `public_key_file`, through a service file; a token signed with
    /// HMAC over the public key's text (the classic algorithm confusion) is refused.
    @Test func rs256AndES256PublicKeysFromAServiceFile() async throws {
        let rsa = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let ec = ES256PrivateKey()
        let rsaPrivate = try Insecure.RSA.PrivateKey(pem: rsa.pemRepresentation)
        for (name, pem) in [("rsa", rsa.publicKey.pemRepresentation), ("ec", ec.publicKey.pemRepresentation)] {
            try await withService { cat in
                _ = try await makeFilms(cat)
                let dir = cat.home.path + "/svc-\(name)"
                try FileManager.default.createDirectory(atPath: dir + "/keys", withIntermediateDirectories: true)
                try pem.write(toFile: dir + "/keys/pub.pem", atomically: true, encoding: .utf8)
                let toml = """
                    [[service]]
                    name = "films"
                    [service.auth]
                    jwt = { public_key_file = "keys/pub.pem", issuer = "idp" }
                    [[service.routes]]
                    type = "insert"
                    path = "/films"
                    table = "films"
                    inputs = ["id", "title"]
                    """
                let config = try #require(try ServiceConfigLoader.services(inText: toml, file: dir + "/pixeltable.toml", environment: [:]).first)
                let router = try await ServiceBuilder.build(config, catalog: cat)
                let s = try await RunningServer.start(router)
                defer { Task { await s.stop() } }
                let keys = JWTKeyCollection()
                if name == "rsa" { await keys.add(rsa: rsaPrivate, digestAlgorithm: .sha256) } else { await keys.add(ecdsa: ec) }
                let good = try await keys.sign(TestClaims(exp: Date() + 600, iss: "idp"))
                let r = try await rawHTTP(s.port, "POST", "/films", headers: json(good), body: Array(#"{"id": 1, "title": "Alien"}"#.utf8))
                #expect(r.status == 200, "\(name): \(r.text)")
                let confused = JWTKeyCollection()
                await confused.add(hmac: HMACKey(from: pem), digestAlgorithm: .sha256)
                let forged = try await confused.sign(TestClaims(exp: Date() + 600, iss: "idp"))
                let f = try await rawHTTP(s.port, "POST", "/films", headers: json(forged), body: Array(#"{"id": 2, "title": "Alien"}"#.utf8))
                #expect(f.status == 401, "\(name): \(f.text)")
            }
        }
    }

    @Test func mediaURLsAreSignedAndExpire() async throws {
        try await withService { cat in
            let t = try await cat.createTable("images", columns: [.init("id", .int), .init("photo", .image)], primaryKey: ["id"])
            let auth = ServiceAuth(apiKeys: [APIKey(Self.key)], mediaURLLifetime: 120)
            let router = try ServiceRouter(catalog: cat, configuration: configuration(auth))
            try await router.addInsertRoute(t, path: "/upload", inputs: ["id"], uploadFileInputs: ["photo"])
            let s = try await RunningServer.start(router)
            defer { Task { await s.stop() } }
            let jpeg = try ImageCodec.encode(TestImages.pattern(40, 30), as: .jpeg)
            let form = multipart(fields: [("id", "1")], files: [("photo", "a.jpg", "image/jpeg", jpeg)])
            #expect(try await rawHTTP(s.port, "POST", "/upload", headers: ["Content-Type": form.contentType]).status == 401)
            let r = try await rawHTTP(s.port, "POST", "/upload", headers: ["Content-Type": form.contentType, "X-API-Key": Self.key], body: form.body)
            #expect(r.status == 200, "\(r.text)")
            let url = pathOf(try #require(try JSONParser.parse(bytes: r.body)["photo"]?.stringValue))
            let query = try #require(url.split(separator: "?").last)
            #expect(query.hasPrefix("exp=") && query.contains("&sig="), "\(url)")
            let exp = try #require(Int(query.dropFirst(4).prefix { $0 != "&" }))
            let now = Int(Date().timeIntervalSince1970)
            #expect(exp > now + 100 && exp <= now + 200, "expires after the lifetime, rounded up to the minute")

            // The signed URL loads without headers, as an <img src> does.
            let img = try await rawHTTP(s.port, "GET", url)
            #expect(img.status == 200 && img.body == jpeg)
            // Unsigned: credentials needed.
            let bare = String(url.prefix { $0 != "?" })
            #expect(try await rawHTTP(s.port, "GET", bare).status == 401)
            #expect(try await rawHTTP(s.port, "GET", bare, headers: ["X-API-Key": Self.key]).status == 200)
            // A changed signature, expiry or path is refused.
            let sig = query.split(separator: "&sig=").last!
            let flipped = (sig.first == "A" ? "B" : "A") + sig.dropFirst()
            for (bad, reason) in [
                (bare + "?exp=\(exp)&sig=\(flipped)", "invalid"), (bare + "?exp=\(exp + 60)&sig=\(sig)", "invalid"),
                (bare.replacingOccurrences(of: ".jpg", with: ".png") + "?" + query, "invalid"), (bare + "?exp=\(exp)&sig=%%%", "malformed"),
            ] {
                let b = try await rawHTTP(s.port, "GET", bad)
                #expect(b.status == 401, "\(bad)")
                #expect(b.text.contains(reason), "\(bad): \(b.text)")
            }
            // An expired signature, made as the server would have an hour ago.
            let signer = try #require(router.authenticator?.signer)
            let old = signer.query(forEncodedPath: bare.dropFirst("/media/".count), now: Date() - 3600)
            let expired = try await rawHTTP(s.port, "GET", bare + "?" + old)
            #expect(expired.status == 401 && expired.text.contains("expired"), "\(expired.text)")
        }
    }

    /// Two routers on one home sign with the same key (kept in the home, mode 0600), so a URL
    /// from one server loads from another.
    @Test func theMediaKeyIsSharedThroughTheHome() throws {
        let home = TestHome()
        defer { home.remove() }
        let cat = try home.open()
        let a = try Authenticator(ServiceAuth(apiKeys: [APIKey("k")]), prefix: "", home: cat.home)
        let b = try Authenticator(ServiceAuth(apiKeys: [APIKey("k")]), prefix: "", home: cat.home)
        let q = a.mediaQuery("media/x.jpg")
        let parts = q.split(separator: "&")
        #expect(b.signer.refusal(encodedPath: "media/x.jpg", exp: parts[0].dropFirst(4), sig: parts[1].dropFirst(4)) == nil)
        let attributes = try FileManager.default.attributesOfItem(atPath: cat.home.path + "/media-url.key")
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
    }

    @Test func openAPIDeclaresTheCredentials() async throws {
        try await withService { cat in
            let t = try await makeFilms(cat)
            let auth = ServiceAuth(apiKeys: [APIKey(Self.key), APIKey(Self.scopedKey, routes: ["/films"])], jwt: JWTSettings(secret: Self.secret), publicPaths: ["/lookup"])
            let router = try ServiceRouter(catalog: cat, configuration: configuration(auth))
            try await router.addInsertRoute(t, path: "/films", inputs: ["id", "title"])
            try await router.addDeleteRoute(t, path: "/lookup")
            let doc = router.openAPIDocument
            #expect(doc["components"]?["securitySchemes"]?["HTTPBearer"] == ["type": "http", "scheme": "bearer", "bearerFormat": "JWT"])
            #expect(doc["components"]?["securitySchemes"]?["APIKeyHeader"] == ["type": "apiKey", "in": "header", "name": "X-API-Key"])
            #expect(doc["security"] == [["HTTPBearer": []], ["APIKeyHeader": []]])
            #expect(doc["paths"]?["/films"]?["post"]?["responses"]?["401"] != nil)
            #expect(doc["paths"]?["/films"]?["post"]?["responses"]?["403"] != nil)
            #expect(doc["paths"]?["/lookup"]?["post"]?["security"] == [])
            #expect(doc["paths"]?["/media/{path}"]?["get"]?["parameters"]?.arrayValue?.count == 3)
            // The docs page asks for the key.
            #expect(DocsPage.render(doc, openAPIPath: "/openapi.json").contains("id=\"pxt-key\""))
            let open = try ServiceRouter(catalog: cat)
            #expect(open.openAPIDocument["components"]?["securitySchemes"] == nil)
            #expect(!DocsPage.render(open.openAPIDocument, openAPIPath: "/openapi.json").contains("id=\"pxt-key\""))
        }
    }

    @Test func policiesThatCannotWorkAreRefused() throws {
        let home = TestHome()
        defer { home.remove() }
        let cat = try home.open()
        for (auth, message) in [
            (ServiceAuth(), "api_keys, jwt or both"), (ServiceAuth(apiKeys: [APIKey("")]), "empty"),
            (ServiceAuth(jwt: JWTSettings(secret: "short")), "32 bytes"), (ServiceAuth(jwt: JWTSettings(publicKeyPEM: "not a key")), "neither"),
            (ServiceAuth(jwt: JWTSettings(publicKeyFile: "/nonexistent/pub.pem")), "cannot read"),
        ] {
            var c = ServiceRouter.Configuration()
            c.auth = auth
            #expect { try ServiceRouter(catalog: cat, configuration: c) } throws: { e in (e as? PixeltableError)?.message.contains(message) == true }
        }
        // Secrets never show in descriptions.
        let a = ServiceAuth(apiKeys: [APIKey(Self.key)], jwt: JWTSettings(secret: Self.secret))
        #expect(!"\(a)".contains(Self.key) && !"\(a)".contains(Self.secret))
        #expect(!JSONWriter.compact.string(a.json).contains(Self.key))
    }
}

/// The claims the tests sign.
struct TestClaims: JWTPayload {
    var exp: ExpirationClaim?
    var nbf: NotBeforeClaim?
    var iss: IssuerClaim?
    var aud: AudienceClaim?

    init(exp: Date?, nbf: Date? = nil, iss: String? = nil, aud: [String]? = nil) {
        self.exp = exp.map { ExpirationClaim(value: $0) }
        self.nbf = nbf.map { NotBeforeClaim(value: $0) }
        self.iss = iss.map { IssuerClaim(value: $0) }
        self.aud = aud.map { AudienceClaim(value: $0) }
    }

    func verify(using algorithm: some JWTAlgorithm) async throws {}
}

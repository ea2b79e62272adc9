import Foundation
import Pixeltable
import Testing
@testable import PixeltableServing

/// `[service.cors]`: nothing is allowed by default; listed origins get preflights answered and
/// their responses marked, before authentication.
@Suite struct CORSTests {
    static let origin = "https://app.example.com"

    func server(_ cat: Catalog, cors: CORSPolicy?, auth: ServiceAuth? = nil) async throws -> RunningServer {
        let t = try await makeFilms(cat)
        var c = ServiceRouter.Configuration()
        c.cors = cors
        c.auth = auth
        let router = try ServiceRouter(catalog: cat, configuration: c)
        try await router.addInsertRoute(t, path: "/films", inputs: ["id", "title"])
        return try await RunningServer.start(router)
    }

    func preflight(_ port: Int, origin: String = origin, method: String = "POST", headers: String? = "content-type") async throws -> LoopbackHTTP.Response {
        var h = ["Origin": origin, "Access-Control-Request-Method": method]
        if let headers { h["Access-Control-Request-Headers"] = headers }
        return try await rawHTTP(port, "OPTIONS", "/films", headers: h)
    }

    @Test func withoutAPolicyNoOriginIsAllowed() async throws {
        try await withService { cat in
            let s = try await server(cat, cors: nil)
            defer { Task { await s.stop() } }
            let p = try await preflight(s.port)
            #expect(p.headers["access-control-allow-origin"] == nil)
            #expect(p.status == 405 || p.status == 404, "\(p.status)")
            let r = try await rawHTTP(s.port, "POST", "/films", headers: ["Origin": Self.origin, "Content-Type": "application/json"], body: Array(#"{"id": 1, "title": "A"}"#.utf8))
            #expect(r.status == 200)
            #expect(r.headers["access-control-allow-origin"] == nil)
        }
    }

    @Test func listedOriginsGetPreflightsAndMarkedResponsesBeforeAuth() async throws {
        try await withService { cat in
            let key = "k-0123456789abcdef0123456789abcdef"
            let policy = CORSPolicy(allowOrigins: [Self.origin], allowHeaders: ["Authorization", "Content-Type"], allowCredentials: true, exposeHeaders: ["X-Request-Id"])
            let s = try await server(cat, cors: policy, auth: ServiceAuth(apiKeys: [APIKey(key)]))
            defer { Task { await s.stop() } }
            // A preflight carries no credentials and is answered anyway.
            let p = try await preflight(s.port, headers: "authorization, content-type")
            #expect(p.status == 204, "\(p.text)")
            #expect(p.headers["access-control-allow-origin"] == Self.origin)
            #expect(p.headers["access-control-allow-methods"] == "GET, POST")
            #expect(p.headers["access-control-allow-headers"] == "Authorization, Content-Type")
            #expect(p.headers["access-control-allow-credentials"] == "true")
            #expect(p.headers["access-control-max-age"] == "600")
            #expect(p.headers["vary"] == "Origin")
            // Another origin, method or header: refused, with no allow headers.
            for r in [
                try await preflight(s.port, origin: "https://evil.example"), try await preflight(s.port, method: "DELETE"),
                try await preflight(s.port, headers: "x-custom"),
            ] {
                #expect(r.status == 403, "\(r.text)")
                #expect(r.headers["access-control-allow-origin"] == nil)
            }
            // The request itself still needs credentials; its answer is marked for the origin.
            let denied = try await rawHTTP(s.port, "POST", "/films", headers: ["Origin": Self.origin, "Content-Type": "application/json"], body: Array(#"{"id": 1, "title": "A"}"#.utf8))
            #expect(denied.status == 401)
            #expect(denied.headers["access-control-allow-origin"] == Self.origin, "a browser script may read why it was refused")
            let ok = try await rawHTTP(
                s.port, "POST", "/films", headers: ["Origin": Self.origin, "Content-Type": "application/json", "Authorization": "Bearer \(key)"], body: Array(#"{"id": 1, "title": "A"}"#.utf8))
            #expect(ok.status == 200)
            #expect(ok.headers["access-control-allow-origin"] == Self.origin)
            #expect(ok.headers["access-control-expose-headers"] == "X-Request-Id")
            let other = try await rawHTTP(
                s.port, "POST", "/films", headers: ["Origin": "https://evil.example", "Content-Type": "application/json", "Authorization": "Bearer \(key)"], body: Array(#"{"id": 2, "title": "A"}"#.utf8))
            #expect(other.headers["access-control-allow-origin"] == nil)
        }
    }

    @Test func policiesThatCannotBeSafeAreRefused() {
        #expect(throws: PixeltableError.self) { try CORSPolicy(allowOrigins: ["*"], allowCredentials: true).validate() }
        #expect(throws: PixeltableError.self) { try CORSPolicy(allowOrigins: ["app.example.com"]).validate() }
        #expect(throws: PixeltableError.self) { try CORSPolicy(allowOrigins: ["https://app.example.com/"]).validate() }
        #expect(CORSPolicy(allowOrigins: ["*"]).allowOriginValue("https://x.example") == "*")
    }
}

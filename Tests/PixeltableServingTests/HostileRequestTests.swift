import Foundation
import Pixeltable
import Testing
@testable import PixeltableServing

/// Requests as an attacker sends them: each test holds a defect found by the hostile-input pass
/// (issue "Reliability and security") fixed.
@Suite struct HostileRequestTests {
    /// A body a web page can make a visitor's browser send without a CORS preflight
    /// (`text/plain`, a form) must not reach a JSON route (cf. FastAPI's CVE-2021-32677).
    @Test func jsonRoutesRefuseOtherContentTypesWith415() async throws {
        try await withService { cat in
            let t = try await makeFilms(cat)
            let router = try ServiceRouter(catalog: cat)
            try await router.addInsertRoute(t, path: "/films", inputs: ["id", "title"])
            try await router.addDeleteRoute(t, path: "/films/delete")
            let s = try await RunningServer.start(router)
            defer { Task { await s.stop() } }
            let body = Array(#"{"id": 1, "title": "Alien"}"#.utf8)
            for type in ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/jsonx", "text/json"] {
                let r = try await rawHTTP(s.port, "POST", "/films", headers: ["Content-Type": type], body: body)
                #expect(r.status == 415, "\(type): \(r.status) \(r.text)")
                #expect(r.text.contains("application/json"), "\(r.text)")
                let d = try await rawHTTP(s.port, "POST", "/films/delete", headers: ["Content-Type": type], body: Array(#"{"id": 1}"#.utf8))
                #expect(d.status == 415, "\(type)")
            }
            #expect(try await t.count() == 0)
            // JSON, with parameters or as a +json type, in any case; and no type at all, as FastAPI.
            for (i, type) in ["application/json", "application/json; charset=utf-8", "Application/JSON", "application/vnd.films+json", nil].enumerated() {
                let headers = type.map { ["Content-Type": $0] } ?? [:]
                let r = try await rawHTTP(s.port, "POST", "/films", headers: headers, body: Array(#"{"id": \#(i + 10), "title": "Alien"}"#.utf8))
                #expect(r.status == 200, "\(type ?? "none"): \(r.text)")
            }
        }
    }

    /// Numbers no column can hold are refused, not stored as null or as another number.
    @Test func nonFiniteAndOversizedNumbersAre422() async throws {
        try await withService { cat in
            let t = try await cat.createTable("m", columns: [.init("id", .int), .init("score", .float)], primaryKey: ["id"])
            let router = try ServiceRouter(catalog: cat)
            try await router.addInsertRoute(t, path: "/m")
            let s = try await RunningServer.start(router)
            defer { Task { await s.stop() } }
            for (body, field, type) in [
                (#"{"id": 1, "score": 1e400}"#, "score", "finite_number"), (#"{"id": 1, "score": -1e999}"#, "score", "finite_number"),
                (#"{"id": 18446744073709551616, "score": 1.5}"#, "id", "int_range"), (#"{"id": 1e19, "score": 1.5}"#, "id", "int_range"),
                (#"{"id": 1, "score": NaN}"#, nil, nil), (#"{"id": 1, "score": Infinity}"#, nil, nil),
            ] as [(String, String?, String?)] {
                let r = try await rawHTTP(s.port, "POST", "/m", headers: ["Content-Type": "application/json"], body: Array(body.utf8))
                #expect(r.status == 422, "\(body): \(r.status) \(r.text)")
                if let field, let type {
                    let detail = try JSONParser.parse(bytes: r.body)["detail"]?[0]
                    #expect(detail?["loc"] == ["body", .string(field)], "\(r.text)")
                    #expect(detail?["type"] == .string(type), "\(r.text)")
                }
            }
            #expect(try await t.count() == 0)
            let ok = try await rawHTTP(s.port, "POST", "/m", headers: ["Content-Type": "application/json"], body: Array(#"{"id": 9223372036854775807, "score": 1e300}"#.utf8))
            #expect(ok.status == 200, "\(ok.text)")
        }
    }

    /// A stored HTML or SVG file is not run as a page of the service's origin: it is sent as
    /// an attachment, and no type is sniffed.
    @Test func activeMediaFilesAreAttachments() async throws {
        try await withService { cat in
            let dir = cat.media.home.mediaDirectory + "/t"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            for name in ["page.html", "drawing.svg", "photo.jpg"] {
                try Data("<script>alert(1)</script>".utf8).write(to: URL(fileURLWithPath: dir + "/" + name))
            }
            let router = try ServiceRouter(catalog: cat)
            let s = try await RunningServer.start(router)
            defer { Task { await s.stop() } }
            for (name, active) in [("page.html", true), ("drawing.svg", true), ("photo.jpg", false)] {
                let r = try await rawHTTP(s.port, "GET", "/media/media/t/" + name)
                #expect(r.status == 200, "\(name)")
                #expect(r.headers["x-content-type-options"] == "nosniff", "\(name)")
                #expect((r.headers["content-disposition"] == "attachment") == active, "\(name): \(r.headers)")
            }
        }
    }

    /// Defect 1: a NUL in a string is stored, compared and answered exactly; `"nul"` and
    /// `"nul\u0000b"` are two keys.
    @Test func stringsWithNULRoundTripThroughHTTP() async throws {
        try await withService { cat in
            let t = try await cat.createTable("skus", columns: [.init("sku", .string), .init("n", .int)], primaryKey: ["sku"])
            let router = try ServiceRouter(catalog: cat)
            try await router.addInsertRoute(t, path: "/skus")
            let module = try ModuleFile.parse(
                "[[query]]\nname = \"by_sku\"\ntable = \"skus\"\nparams = { sku = \"String\" }\nwhere = \"sku == :sku\"\n", file: "queries.toml")
            try await router.addQueryRoute(path: "/skus/lookup", query: try await module.query(named: "by_sku")!.compile(cat), oneRow: true)
            let s = try await RunningServer.start(router)
            defer { Task { await s.stop() } }
            let json = ["Content-Type": "application/json"]
            for (i, sku) in [#"nul"#, #"nul\u0000b"#, #"nul\u0000c"#].enumerated() {
                let r = try await rawHTTP(s.port, "POST", "/skus", headers: json, body: Array(#"{"sku": "\#(sku)", "n": \#(i)}"#.utf8))
                #expect(r.status == 200, "\(sku): \(r.text)")
                #expect(r.text.contains(#""sku":"\#(sku)""#), "the answer echoes what was stored: \(r.text)")
            }
            #expect(try await t.count() == 3)
            let dup = try await rawHTTP(s.port, "POST", "/skus", headers: json, body: Array(#"{"sku": "nul\u0000b", "n": 9}"#.utf8))
            #expect(dup.status == 400 || dup.status == 409 || dup.status == 422, "\(dup.status) \(dup.text)")
            let found = try await rawHTTP(s.port, "POST", "/skus/lookup", headers: json, body: Array(#"{"sku": "nul\u0000c"}"#.utf8))
            #expect(found.status == 200 && found.text.contains(#""n":2"#), "\(found.text)")
        }
    }

    /// Defect 2: bytes that are not UTF-8 are a 422 naming the field, not U+FFFD stored.
    @Test func invalidUTF8Is422NamingTheField() async throws {
        try await withService { cat in
            let t = try await makeFilms(cat)
            let router = try ServiceRouter(catalog: cat)
            try await router.addInsertRoute(t, path: "/films", inputs: ["id", "title", "meta"])
            let s = try await RunningServer.start(router)
            defer { Task { await s.stop() } }
            for (bytes, loc) in [
                (Array(##"{"id": 1, "title": "ab"##.utf8) + [0xFF, 0xFE] + Array(##""}"##.utf8), ["body", "title"]),
                (Array(##"{"id": 1, "title": "x", "meta": {"tags": ["ok", ""##.utf8) + [0xC3, 0x28] + Array(##""]}}"##.utf8), ["body", "meta", "tags"]),
                (Array(##"{"id": 1, "title": "overlong "##.utf8) + [0xC0, 0xAF] + Array(##""}"##.utf8), ["body", "title"]),
                (Array(##"{"id": 1, "title": "surrogate "##.utf8) + [0xED, 0xA0, 0x80] + Array(##""}"##.utf8), ["body", "title"]),
            ] as [([UInt8], [String])] {
                let r = try await rawHTTP(s.port, "POST", "/films", headers: ["Content-Type": "application/json"], body: bytes)
                #expect(r.status == 422, "\(r.text)")
                let detail = try JSONParser.parse(bytes: r.body)["detail"]?[0]
                #expect(detail?["type"] == "string_unicode", "\(r.text)")
                #expect(detail?["loc"] == .array(loc.map { .string($0) }), "\(r.text)")
            }
            #expect(try await t.count() == 0)
            // Valid multi-byte text is untouched.
            let ok = try await rawHTTP(s.port, "POST", "/films", headers: ["Content-Type": "application/json"], body: Array(#"{"id": 2, "title": "Amélie 東京 🎬"}"#.utf8))
            #expect(ok.status == 200 && ok.text.contains("Amélie 東京 🎬"), "\(ok.text)")
        }
    }

    /// Another method on a route's path is 405 with `Allow`, as Starlette answers, not 404.
    @Test func aWrongMethodIs405WithAllow() async throws {
        try await withService { cat in
            let t = try await makeFilms(cat)
            let router = try ServiceRouter(catalog: cat)
            try await router.addInsertRoute(t, path: "/films", inputs: ["id", "title"])
            let module = try ModuleFile.parse(
                "[[query]]\nname = \"by_id\"\ntable = \"films\"\nparams = { id = \"Int\" }\nwhere = \"id == :id\"\n", file: "queries.toml")
            try await router.addQueryRoute(path: "/films/lookup", query: try await module.query(named: "by_id")!.compile(cat), oneRow: true, method: .get)
            let s = try await RunningServer.start(router)
            defer { Task { await s.stop() } }
            for method in ["GET", "PUT", "DELETE", "PATCH", "TRACE", "QUERY", "PROPFIND"] {
                let r = try await rawHTTP(s.port, method, "/films")
                #expect(r.status == 405, "\(method) /films: \(r.status)")
                #expect(r.headers["allow"] == "POST", "\(r.headers)")
                #expect(r.text == #"{"detail":"Method Not Allowed"}"#)
            }
            let r = try await rawHTTP(s.port, "POST", "/films/lookup")
            #expect(r.status == 405)
            #expect(r.headers["allow"] == "GET")
            #expect(try await rawHTTP(s.port, "GET", "/nothing-here").status == 404)
        }
    }
}

import Foundation
import Hummingbird
import Pixeltable
import PixeltableServing
import Synchronization
import Testing

@Suite struct RouteTests {
    @Test func insertRouteReturnsStoredAndComputedColumns() async throws {
        try await withService { cat in
            let films = try await makeFilms(cat)
            let router = try ServiceRouter(catalog: cat)
            try await router.addInsertRoute(films, path: "/all")
            try await router.addInsertRoute(films, path: "/partial-in", inputs: ["id", "title"], outputs: ["id", "title", "year", "next_year"])
            try await router.addInsertRoute(films, path: "/minimal", inputs: ["id", "title", "year"], outputs: ["next_year"])
            let s = try await RunningServer.start(router)
            defer { Task { await s.stop() } }
            var r = try await http(s.port, "POST", "/all", json: ["id": 1, "title": "Alien", "year": 1979, "meta": ["k": [1, 2]]])
            #expect(r.status == 200)
            #expect(r.text == #"{"id":1,"title":"Alien","year":1979,"meta":{"k":[1,2]},"title_upper":"ALIEN","next_year":1980}"#)
            // Omitted nullable inputs are null, and computed columns depending on them too.
            r = try await http(s.port, "POST", "/partial-in", json: ["id": 2, "title": "Brazil"])
            #expect(r.json == ["id": 2, "title": "Brazil", "year": .null, "next_year": .null])
            r = try await http(s.port, "POST", "/minimal", json: ["id": 3, "title": "Clue", "year": 99])
            #expect(r.json == ["next_year": 100])
            #expect(try await films.count() == 3)
            // Lax numbers, as pydantic reads JSON bodies.
            r = try await http(s.port, "POST", "/minimal", json: ["id": "4", "title": "D", "year": 1.0])
            #expect(r.json == ["next_year": 2])
        }
    }

    @Test func badRequestsGet422InFastAPIsShapeAndStoreNothing() async throws {
        try await withService { cat in
            let films = try await makeFilms(cat)
            let router = try ServiceRouter(catalog: cat)
            try await router.addInsertRoute(films, path: "/ins")
            let s = try await RunningServer.start(router)
            defer { Task { await s.stop() } }
            var r = try await http(s.port, "POST", "/ins", json: ["title": "x"])
            #expect(r.status == 422)
            #expect(r.json["detail"]?[0] == ["type": "missing", "loc": ["body", "id"], "msg": "Field required", "input": .null])
            r = try await http(s.port, "POST", "/ins", json: ["id": "abc", "title": 5])
            #expect(r.status == 422)
            #expect(r.json["detail"]?[0]?["type"] == "int_parsing")
            #expect(r.json["detail"]?[0]?["input"] == "abc")
            #expect(r.json["detail"]?[1]?["type"] == "string_type")
            #expect(r.json["detail"]?[1]?["loc"] == ["body", "title"])
            r = try await http(s.port, "POST", "/ins", raw: "{not json")
            #expect(r.status == 422)
            #expect(r.json["detail"]?[0]?["type"] == "json_invalid")
            r = try await http(s.port, "POST", "/ins", raw: "[1, 2]")
            #expect(r.json["detail"]?[0]?["type"] == "model_attributes_type")
            // A duplicate key is the engine's error, with its code and status.
            r = try await http(s.port, "POST", "/ins", json: ["id": 1, "title": "a"])
            #expect(r.status == 200)
            r = try await http(s.port, "POST", "/ins", json: ["id": 1, "title": "b"])
            #expect(r.status == 422)
            #expect(r.json["detail"]?["error_code"] == "CONSTRAINT_VIOLATION")
            #expect(r.json["detail"]?["retryable"] == false)
            #expect(try await films.count() == 1)
            r = try await http(s.port, "GET", "/ins")
            #expect(r.status == 405 || r.status == 404)
        }
    }

    @Test func updateAndDeleteRoutes() async throws {
        try await withService { cat in
            let films = try await makeFilms(cat)
            try await films.insert([["id": 1, "title": "Alien", "year": 1979], ["id": 2, "title": "Brazil", "year": 1985, "meta": .json(["tag": "x"])]])
            let router = try ServiceRouter(catalog: cat)
            try await router.addUpdateRoute(films, path: "/update", outputs: ["id", "year", "next_year"])
            try await router.addDeleteRoute(films, path: "/delete")
            try await router.addDeleteRoute(films, path: "/delete-by-year", matchColumns: ["year", "title"])
            let s = try await RunningServer.start(router)
            defer { Task { await s.stop() } }
            var r = try await http(s.port, "POST", "/update", json: ["id": 1, "title": "Alien!", "year": 2000])
            #expect(r.status == 200)
            #expect(r.json == ["id": 1, "year": 2000, "next_year": 2001])
            r = try await http(s.port, "POST", "/update", json: ["id": 99, "title": "x"])
            #expect(r.status == 404)
            #expect(r.json == ["detail": "row not found"])
            r = try await http(s.port, "POST", "/update", json: ["title": "x"])
            #expect(r.status == 422)
            r = try await http(s.port, "POST", "/delete", json: ["id": 1])
            #expect(r.json == ["num_rows": 1])
            r = try await http(s.port, "POST", "/delete", json: ["id": 1])
            #expect(r.status == 200)
            #expect(r.json == ["num_rows": 0])
            r = try await http(s.port, "POST", "/delete-by-year", json: ["year": 1985, "title": "Brazil"])
            #expect(r.json == ["num_rows": 1])
            #expect(try await films.count() == 0)
        }
    }

    func compile(_ cat: Catalog, _ module: String, _ name: String) async throws -> CompiledQuery {
        let m = try ModuleFile.parse(module, file: "queries.toml")
        return try await m.query(named: name)!.compile(cat)
    }

    static let queries = """
        [[query]]
        name = "search"
        table = "films"
        params = { min_year = { type = "Int", default = 3 }, text = "String" }
        select = ["id", "title"]
        where = "year >= :min_year and title.contains(:text)"
        order_by = ["id"]

        [[query]]
        name = "by_id"
        table = "films"
        retrieval = ["id"]

        [[query]]
        name = "titles"
        table = "films"
        select = ["title"]
        order_by = ["id"]
        return_scalar = true

        [[query]]
        name = "all"
        table = "films"
        order_by = ["id"]
        limit = 2
        """

    @Test func queryRoutes() async throws {
        try await withService { cat in
            let films = try await makeFilms(cat)
            try await films.insert([["id": 1, "title": "t0", "year": 1], ["id": 2, "title": "t1", "year": 5], ["id": 3, "title": "t2", "year": 9]])
            let router = try ServiceRouter(catalog: cat)
            try await router.addQueryRoute(path: "/search", query: try await compile(cat, Self.queries, "search"))
            try await router.addQueryRoute(path: "/lookup", query: try await compile(cat, Self.queries, "by_id"), oneRow: true, method: .get)
            try await router.addQueryRoute(path: "/lookup-post", query: try await compile(cat, Self.queries, "by_id"), oneRow: true)
            try await router.addQueryRoute(path: "/search-many", query: try await compile(cat, Self.queries, "search"), oneRow: true)
            try await router.addQueryRoute(path: "/titles", query: try await compile(cat, Self.queries, "titles"))
            try await router.addQueryRoute(path: "/title", query: try await compile(cat, Self.queries, "titles"), oneRow: true, method: .get)
            try await router.addQueryRoute(path: "/all", query: try await compile(cat, Self.queries, "all"), method: .get)
            let s = try await RunningServer.start(router)
            defer { Task { await s.stop() } }
            var r = try await http(s.port, "POST", "/search", json: ["text": "t"])
            #expect(r.json == ["rows": [["id": 2, "title": "t1"], ["id": 3, "title": "t2"]]])
            r = try await http(s.port, "POST", "/search", json: ["text": "t", "min_year": 0])
            #expect(r.json["rows"]?.arrayValue?.count == 3)
            r = try await http(s.port, "POST", "/search", json: ["text": "zzz"])
            #expect(r.json == ["rows": []])
            r = try await http(s.port, "POST", "/search", json: [:])
            #expect(r.status == 422)
            r = try await http(s.port, "GET", "/lookup?id=2")
            #expect(r.json == ["id": 2, "title": "t1", "year": 5, "meta": .null, "title_upper": "T1", "next_year": 6])
            r = try await http(s.port, "GET", "/lookup?id=42")
            #expect(r.status == 404)
            #expect(r.json == ["detail": "query returned no rows"])
            r = try await http(s.port, "GET", "/lookup?id=abc")
            #expect(r.status == 422)
            #expect(r.json["detail"]?[0]?["loc"] == ["query", "id"])
            r = try await http(s.port, "POST", "/lookup-post", json: ["id": 3])
            #expect(r.json["title"] == "t2")
            r = try await http(s.port, "POST", "/search-many", json: ["text": "t", "min_year": 0])
            #expect(r.status == 409)
            #expect(r.json == ["detail": "Query returned 3 rows; expected exactly 1 for one_row=True. Change the query to return exactly one row."])
            r = try await http(s.port, "POST", "/titles", json: [:])
            #expect(r.json == ["t0", "t1", "t2"])
            r = try await http(s.port, "GET", "/all")
            #expect(r.json["rows"]?.arrayValue?.count == 2)
            r = try await http(s.port, "POST", "/all", json: [:])
            #expect(r.status == 405 || r.status == 404)
        }
    }

    @Test func backgroundJobsReportAndSurviveRestarts() async throws {
        let home = TestHome()
        defer { home.remove() }
        let cat = try home.open()
        let films = try await makeFilms(cat)
        let router = try ServiceRouter(catalog: cat, service: "svc")
        try await router.addInsertRoute(films, path: "/slow", background: true)
        try await router.addUpdateRoute(films, path: "/slow-update", background: true)
        let s = try await RunningServer.start(router)
        var r = try await http(s.port, "POST", "/slow", json: ["id": 7, "title": "seven", "year": 7])
        #expect(r.status == 200)
        let id = try #require(r.json["id"]?.stringValue)
        #expect(id.count == 32)
        #expect(r.json["job_url"] == .string("http://127.0.0.1:\(s.port)/jobs/\(id)"))
        let done = try await awaitJob(s.port, r.json["job_url"]!.stringValue!)
        #expect(done["status"] == "done")
        #expect(done["error"] == .null)
        #expect(done["result"]?["next_year"] == 8)
        r = try await http(s.port, "POST", "/slow-update", json: ["id": 99, "title": "x"])
        let failed = try await awaitJob(s.port, r.json["job_url"]!.stringValue!)
        #expect(failed == ["status": "error", "error": "404: row not found", "result": .null])
        r = try await http(s.port, "GET", "/jobs/__nonexistent__")
        #expect(r.status == 404)
        #expect(r.json == ["detail": "unknown job id"])
        await s.stop()
        // A new server over the same catalog still knows the finished job.
        let router2 = try ServiceRouter(catalog: try home.open(), service: "svc")
        try await router2.addInsertRoute(films, path: "/slow", background: true)
        let s2 = try await RunningServer.start(router2)
        r = try await http(s2.port, "GET", "/jobs/\(id)")
        #expect(r.json["status"] == "done")
        #expect(r.json["result"]?["title"] == "seven")
        await s2.stop()
    }

    @Test func jobRecordsAreBoundedAndInterruptedJobsFail() async throws {
        try await withService { cat in
            let records = JobRecords(catalog: cat, service: "bounded")
            for i in 0..<20 {
                try await records.create(id: "job\(i)", route: "POST /x")
                try await records.finish(id: "job\(i)", outcome: .done(.int(Int64(i))))
            }
            try await records.create(id: "stuck", route: "POST /x")
            #expect(try await records.markInterrupted() == 1)
            #expect(try await records.get("stuck")?.error == "interrupted by restart")
            try await records.prune(maxCount: 5, maxAge: 3600)
            #expect(try await records.count() == 5)
            #expect(try await records.get("job19") != nil)
            #expect(try await records.get("job0") == nil)
            try await records.prune(maxCount: 100, maxAge: 0)
            #expect(try await records.count() == 0)
        }
    }

    @Test func schemaChangesAfterRegistrationGive409() async throws {
        try await withService { cat in
            let films = try await makeFilms(cat)
            let other = try await cat.createTable("other", columns: [.init("id", .int)], primaryKey: ["id"])
            let router = try ServiceRouter(catalog: cat)
            try await router.addInsertRoute(films, path: "/ins", inputs: ["id", "title"])
            try await router.addDeleteRoute(other, path: "/del")
            let s = try await RunningServer.start(router)
            defer { Task { await s.stop() } }
            #expect(try await http(s.port, "POST", "/ins", json: ["id": 1, "title": "a"]).status == 200)
            try await films.addColumn("extra", .string)
            var r = try await http(s.port, "POST", "/ins", json: ["id": 2, "title": "b"])
            #expect(r.status == 409)
            #expect(r.json == ["detail": "table schema changed since route was registered; please restart the service"])
            try await cat.drop("other")
            _ = try await cat.createTable("other", columns: [.init("id", .int)], primaryKey: ["id"])
            r = try await http(s.port, "POST", "/del", json: ["id": 1])
            #expect(r.status == 409)
            #expect(try await films.count() == 1)
        }
    }

    @Test func registrationErrorsUsePixeltablesMessages() async throws {
        try await withService { cat in
            let films = try await makeFilms(cat)
            let nopk = try await cat.createTable("nopk", columns: [.init("a", .int), .init("arr", .parse("Array[(2,), float32]")), .init("pic", .image)])
            let view = try await cat.createView("v", base: "films", filter: "year > 1")
            let router = try ServiceRouter(catalog: cat, prefix: "/v1")
            func message(_ f: () async throws -> Void) async -> String {
                do {
                    try await f()
                    return "<no error>"
                } catch {
                    return (error as? PixeltableError)?.message ?? "\(error)"
                }
            }
            #expect(await message { try await router.addInsertRoute(view, path: "/a") } == "add_insert_route(): cannot insert into view 'v'")
            #expect(await message { try await router.addInsertRoute(films, path: "/a", inputs: ["nope"]) } == "add_insert_route(): unknown input column 'nope'")
            #expect(await message { try await router.addInsertRoute(films, path: "/a", inputs: ["title_upper"]) } == "add_insert_route(): 'title_upper' is a computed column and cannot be used as input")
            #expect(await message { try await router.addInsertRoute(films, path: "/a", outputs: ["nope"]) } == "add_insert_route(): unknown output column 'nope'")
            #expect(await message { try await router.addInsertRoute(nopk, path: "/a") } == "add_insert_route(): output column 'arr' has type Array[(2,), float32], which is not supported")
            #expect(await message { try await router.addInsertRoute(films, path: "/a", uploadFileInputs: ["title"]) } == "add_insert_route(): uploadfile input column 'title' is not a media column")
            #expect(await message { try await router.addInsertRoute(nopk, path: "/a", inputs: ["pic"], uploadFileInputs: ["pic"], outputs: ["a"]) } == "add_insert_route(): 'pic' appears in both `inputs` and `uploadfile_inputs`")
            #expect(await message { try await router.addInsertRoute(films, path: "/a", returnFileResponse: true, background: true) } == "add_insert_route(): return_fileresponse and background are mutually exclusive")
            #expect(await message { try await router.addInsertRoute(films, path: "/a", outputs: ["id"], returnFileResponse: true) } == "add_insert_route(): return_fileresponse=True requires exactly one media-typed output column")
            #expect(await message { try await router.addUpdateRoute(nopk, path: "/a") } == "add_update_route(): table has no primary key")
            #expect(await message { try await router.addUpdateRoute(films, path: "/a", inputs: ["id"]) } == "add_update_route(): 'id' is a primary key column and cannot be used as input")
            #expect(await message { try await router.addUpdateRoute(view, path: "/a") } == "add_update_route(): cannot update view 'v'")
            #expect(await message { try await router.addDeleteRoute(view, path: "/a") } == "add_delete_route(): cannot delete from view 'v'")
            #expect(await message { try await router.addDeleteRoute(nopk, path: "/a") } == "add_delete_route(): table has no primary key; specify `match_columns` explicitly")
            #expect(await message { try await router.addDeleteRoute(films, path: "/a", matchColumns: []) } == "add_delete_route(): `match_columns` must be non-empty")
            #expect(await message { try await router.addDeleteRoute(films, path: "/a", matchColumns: ["zz"]) } == "add_delete_route(): unknown column 'zz'")
            let q = try await compile(cat, Self.queries, "search")
            #expect(await message { try await router.addQueryRoute(path: "/q", query: q, inputs: ["zz"]) } == "add_query_route(): unknown input parameter 'zz'")
            #expect(await message { try await router.addQueryRoute(path: "/q", query: q, uploadFileInputs: ["text"], method: .get) } == "add_query_route(): GET endpoints cannot have uploadfile_inputs (got ['text'])")
            // Duplicates, with the prefix, including the built-ins; the same path with another method is fine.
            try await router.addInsertRoute(films, path: "/c")
            #expect(await message { try await router.addUpdateRoute(films, path: "/c") } == "route already registered: POST '/v1/c'")
            #expect(await message { try await router.addQueryRoute(path: "/jobs/{job_id}", query: q, method: .get) } == "route already registered: GET '/v1/jobs/{job_id}'")
            try await router.addQueryRoute(path: "/c", query: q, method: .get)
            #expect(router.routeCount == 2)
        }
    }

    struct Shout: RouteResponse {
        var caption: String
        var length: Int
        static let example = Shout(caption: "HELLO", length: 5)
    }

    @Test func closureRoutesShapeTheResponse() async throws {
        try await withService { cat in
            let films = try await makeFilms(cat)
            try await films.insert([["id": 1, "title": "alien", "year": 1]])
            let router = try ServiceRouter(catalog: cat)
            try await router.insertRoute(films, path: "/shout", inputs: ["id", "title"], outputs: ["title_upper"]) { row in
                Shout(caption: (row["title_upper"]?.stringValue ?? "") + "!", length: row["title_upper"]?.stringValue?.count ?? 0)
            }
            try await router.updateRoute(films, path: "/shout-update", inputs: ["title"], outputs: ["id", "title_upper"]) { row in
                Shout(caption: "updated \(row["id"]?.intValue ?? 0): \(row["title_upper"]?.stringValue ?? "")", length: 0)
            }
            try await router.insertRoute(films, path: "/shout-bg", inputs: ["id", "title"], outputs: ["title_upper"], background: true) { row in
                Shout(caption: row["title_upper"]?.stringValue ?? "", length: 1)
            }
            let s = try await RunningServer.start(router)
            defer { Task { await s.stop() } }
            var r = try await http(s.port, "POST", "/shout", json: ["id": 2, "title": "brazil"])
            #expect(r.json == ["caption": "BRAZIL!", "length": 6])
            r = try await http(s.port, "POST", "/shout-update", json: ["id": 1, "title": "heat"])
            #expect(r.json == ["caption": "updated 1: HEAT", "length": 0])
            r = try await http(s.port, "POST", "/shout-update", json: ["id": 9, "title": "x"])
            #expect(r.status == 404)
            r = try await http(s.port, "POST", "/shout-bg", json: ["id": 3, "title": "clue"])
            let job = try await awaitJob(s.port, r.json["job_url"]!.stringValue!)
            #expect(job["result"] == ["caption": "CLUE", "length": 1])
            let doc = try await http(s.port, "GET", "/openapi.json").json
            #expect(doc["components"]?["schemas"]?["Shout"]?["properties"]?["caption"]?["type"] == "string")
            #expect(doc["paths"]?["/shout"]?["post"]?["responses"]?["200"]?["content"]?["application/json"]?["schema"] == ["$ref": "#/components/schemas/Shout"])
        }
    }

    @Test func routesMountNextToHandWrittenOnes() async throws {
        try await withService { cat in
            let films = try await makeFilms(cat)
            let router = try ServiceRouter(catalog: cat, prefix: "/api")
            try await router.addInsertRoute(films, path: "/films", inputs: ["id", "title"])
            let hb = Router(context: BasicRequestContext.self)
            hb.get("/hello") { _, _ in "hi" }
            router.mount(on: hb)
            let bound = Mutex<Int?>(nil)
            let app = Application(router: hb, configuration: .init(address: .hostname("127.0.0.1", port: 0)), onServerRunning: { ch in bound.withLock { $0 = ch.localAddress?.port } })
            let task = Task { try await app.runService() }
            defer { task.cancel() }
            var port: Int? = nil
            for _ in 0..<500 where port == nil {
                port = bound.withLock { $0 }
                try await Task.sleep(for: .milliseconds(10))
            }
            let p = try #require(port)
            #expect(try await http(p, "GET", "/hello").text == "hi")
            #expect(try await http(p, "POST", "/api/films", json: ["id": 1, "title": "x"]).json["title_upper"] == "X")
            #expect(try await http(p, "GET", "/api/openapi.json").json["paths"]?["/api/films"] != nil)
            #expect(try await http(p, "GET", "/api/jobs/nope").status == 404)
        }
    }
}

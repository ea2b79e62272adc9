import Foundation
import Pixeltable
import PixeltableServing
import Testing

// The OpenAPI document at /openapi.json and the /docs page: FastAPI's component names and
// shapes, validated with openapi-spec-validator when it is installed.

private let queries = """
    [[query]]
    name     = "search"
    table    = "films"
    params   = { text = "String", min_year = { type = "Int", default = 3 } }
    select   = ["id", "title", "year + 1 as next"]
    where    = "year >= :min_year and title.contains(:text)"
    order_by = ["id"]

    [[query]]
    name      = "by_id"
    table     = "films"
    retrieval = ["id"]

    [[query]]
    name          = "titles"
    table         = "films"
    select        = ["title"]
    order_by      = ["id"]
    return_scalar = true
    """

private func compile(_ cat: Catalog, _ name: String) async throws -> CompiledQuery {
    try await #require(ModuleFile.parse(queries, file: "queries.toml").query(named: name)).compile(cat)
}

/// A router with one route of every shape over the films table.
private func makeRouter(_ cat: Catalog, prefix: String = "") async throws -> ServiceRouter {
    let films = try await makeFilms(cat)
    var conf = ServiceRouter.Configuration()
    conf.title = "films-service"
    let router = try ServiceRouter(catalog: cat, prefix: prefix, configuration: conf)
    try await router.addInsertRoute(films, path: "/x")
    try await router.addInsertRoute(films, path: "/films/add", inputs: ["id", "title", "year"], outputs: ["id", "title_upper", "next_year"])
    try await router.addUpdateRoute(films, path: "/films/update", inputs: ["year"], outputs: ["id", "year", "next_year"])
    try await router.addDeleteRoute(films, path: "/films/delete")
    try await router.addInsertRoute(films, path: "/slow", background: true)
    try await router.addQueryRoute(path: "/search", query: try await compile(cat, "search"))
    try await router.addQueryRoute(path: "/lookup", query: try await compile(cat, "by_id"), oneRow: true, method: .get)
    try await router.addQueryRoute(path: "/search-get", query: try await compile(cat, "search"), method: .get)
    try await router.addQueryRoute(path: "/titles", query: try await compile(cat, "titles"))
    try await router.addQueryRoute(path: "/slow-search", query: try await compile(cat, "search"), inputs: ["text"], background: true)
    return router
}

/// The schema a `$ref` names.
private func component(_ doc: JSONValue, _ ref: JSONValue?) -> JSONValue? {
    guard let r = ref?["$ref"]?.stringValue, r.hasPrefix("#/components/schemas/") else { return nil }
    return doc["components"]?["schemas"]?[String(r.dropFirst("#/components/schemas/".count))]
}

private func responseSchema(_ doc: JSONValue, _ path: String, _ method: String = "post") -> JSONValue? {
    doc["paths"]?[path]?[method]?["responses"]?["200"]?["content"]?["application/json"]?["schema"]
}

private func bodySchema(_ doc: JSONValue, _ path: String) -> JSONValue? {
    component(doc, doc["paths"]?[path]?["post"]?["requestBody"]?["content"]?["application/json"]?["schema"])
}

/// Runs `python3 args…` with `input` on stdin, off Swift's cooperative pool.
private func python(_ args: [String], input: String) async throws -> (status: Int32, output: String) {
    try await withCheckedThrowingContinuation { cont in
        Thread.detachNewThread {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = ["python3"] + args
            let inPipe = Pipe(), outPipe = Pipe()
            p.standardInput = inPipe
            p.standardOutput = outPipe
            p.standardError = outPipe
            do {
                try p.run()
            } catch {
                cont.resume(throwing: error)
                return
            }
            let data = Data(input.utf8)
            Thread.detachNewThread {
                inPipe.fileHandleForWriting.write(data)
                try? inPipe.fileHandleForWriting.close()
            }
            let output = outPipe.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            cont.resume(returning: (p.terminationStatus, String(decoding: output, as: UTF8.self)))
        }
    }
}

@Suite struct OpenAPITests {
    @Test func theDocumentHasFastAPIsComponentNames() async throws {
        try await withService { cat in
            let router = try await makeRouter(cat)
            let server = try await RunningServer.start(router)
            defer { Task { await server.stop() } }
            let r = try await http(server.port, "GET", "/openapi.json")
            #expect(r.status == 200)
            #expect(r.headers.first { $0.key.lowercased() == "content-type" }?.value.hasPrefix("application/json") == true)
            let doc = r.json
            #expect(doc == router.openAPIDocument)
            #expect(doc["openapi"] == "3.1.0")
            #expect(doc["info"]?["title"] == "films-service")
            let schemas = try #require(doc["components"]?["schemas"]?.objectValue)
            for name in [
                "Body_insert_x_x_post", "XResponse", "Body_insert_films_add_films_add_post", "FilmsAddResponse", "Body_update_films_update_films_update_post",
                "FilmsUpdateResponse", "Body_delete_films_delete_films_delete_post", "DeleteResponse", "SearchResponse", "SearchRowResponse",
                "Body_query_search_search_post", "LookupRowResponse", "Search-getResponse", "Search-getRowResponse", "BackgroundJobResponse",
                "JobStatusResponse", "HTTPValidationError", "ValidationError",
            ] {
                #expect(schemas[name] != nil, "missing component \(name)")
            }
            // PathStr capitalizes each segment as Python's str.capitalize() does.
            #expect(responseSchema(doc, "/search-get", "get") == ["$ref": "#/components/schemas/Search-getResponse"])
            // Component names are sorted, as in FastAPI's document.
            #expect(schemas.keys == schemas.keys.sorted())
            #expect(doc["paths"]?["/x"]?["post"]?["operationId"] == "insert_x_x_post")
            #expect(doc["paths"]?["/films/update"]?["post"]?["operationId"] == "update_films_update_films_update_post")

            // Insert: the body takes every stored column, the response every column.
            #expect(responseSchema(doc, "/x") == ["$ref": "#/components/schemas/XResponse"])
            let body = try #require(schemas["Body_insert_x_x_post"])
            #expect(body["type"] == "object")
            #expect(body["title"] == "Body_insert_x_x_post")
            #expect(body["properties"]?.objectValue?.keys == ["id", "title", "year", "meta"])
            #expect(body["required"] == ["id", "title"])
            #expect(doc["paths"]?["/x"]?["post"]?["requestBody"]?["required"] == true)
            #expect(schemas["XResponse"]?["properties"]?.objectValue?.keys == ["id", "title", "year", "meta", "title_upper", "next_year"])
            #expect(schemas["FilmsAddResponse"]?["properties"]?.objectValue?.keys == ["id", "title_upper", "next_year"])
            // Update: the primary key first, then the inputs.
            #expect(schemas["Body_update_films_update_films_update_post"]?["properties"]?.objectValue?.keys == ["id", "year"])
            #expect(schemas["Body_update_films_update_films_update_post"]?["required"] == ["id"])
            // Delete.
            #expect(responseSchema(doc, "/films/delete") == ["$ref": "#/components/schemas/DeleteResponse"])
            #expect(schemas["DeleteResponse"]?["properties"]?["num_rows"]?["type"] == "integer")
            #expect(schemas["DeleteResponse"]?["required"] == ["num_rows"])
            // Query: {"rows": [...]} of row objects; one_row answers the row itself; return_scalar an array.
            #expect(responseSchema(doc, "/search") == ["$ref": "#/components/schemas/SearchResponse"])
            #expect(schemas["SearchResponse"]?["properties"]?["rows"]?["items"] == ["$ref": "#/components/schemas/SearchRowResponse"])
            #expect(schemas["SearchResponse"]?["properties"]?["rows"]?["description"] == "Query result rows")
            #expect(schemas["SearchRowResponse"]?["properties"]?.objectValue?.keys == ["id", "title", "next"])
            #expect(responseSchema(doc, "/lookup", "get") == ["$ref": "#/components/schemas/LookupRowResponse"])
            #expect(schemas["LookupResponse"] == nil)
            let titles = try #require(responseSchema(doc, "/titles"))
            #expect(titles["type"] == "array")
            #expect(titles["items"]?["type"] == "string")
            #expect(titles["title"] == "TitlesResponse")
            #expect(schemas["TitlesRowResponse"] == nil)
        }
    }

    @Test func commentsNullabilityAndDefaults() async throws {
        try await withService { cat in
            let doc = try await makeRouter(cat).openAPIDocument
            let body = try #require(bodySchema(doc, "/x"))
            // Column comments become descriptions, in requests and responses; none are invented.
            #expect(body["properties"]?["id"]?["description"] == "Film id")
            #expect(component(doc, responseSchema(doc, "/x"))?["properties"]?["id"]?["description"] == "Film id")
            #expect(component(doc, responseSchema(doc, "/films/add"))?["properties"]?["title_upper"]?["description"] == nil)
            #expect(body["properties"]?["title"]?["description"] == nil)
            // Required non-null columns (and primary keys) are plain types; integers in requests
            // carry the 64-bit range.
            let int64: JSONValue = ["type": "integer", "minimum": .int(Int64.min), "maximum": .int(Int64.max)]
            #expect(body["properties"]?["id"] == ["type": "integer", "minimum": .int(Int64.min), "maximum": .int(Int64.max), "title": "Id", "description": "Film id"])
            #expect(body["properties"]?["title"] == ["type": "string", "title": "Title"])
            // Nullable ones are anyOf with null, defaulting to null.
            #expect(body["properties"]?["year"] == ["anyOf": [int64, ["type": "null"]], "title": "Year", "default": .null])
            let response = try #require(component(doc, responseSchema(doc, "/x")))
            #expect(response["properties"]?["next_year"] == ["anyOf": [["type": "integer"], ["type": "null"]], "title": "Next Year", "default": .null])
            #expect(response["properties"]?["title_upper"]?["anyOf"] == [["type": "string"], ["type": "null"]])
            #expect(response["required"] == ["id", "title"])
            // Json accepts anything, so it has no type.
            #expect(body["properties"]?["meta"]?["type"] == nil)
            #expect(body["properties"]?["meta"]?["default"] == .null)

            // Query parameters: a default shows as `default` and makes the field optional.
            let search = try #require(bodySchema(doc, "/search"))
            #expect(search["properties"]?["min_year"]?["default"] == 3)
            #expect(search["properties"]?.objectValue?.keys == ["text", "min_year"])
            #expect(search["required"] == ["text"])
            // `inputs` restricts the body to those parameters.
            #expect(bodySchema(doc, "/slow-search")?["properties"]?.objectValue?.keys == ["text"])

            // GET query routes take query-string parameters, with no body.
            let get = try #require(doc["paths"]?["/search-get"]?["get"])
            #expect(get["requestBody"] == nil)
            let params = try #require(get["parameters"]?.arrayValue)
            #expect(params.map { $0["name"] } == ["text", "min_year"])
            #expect(params.allSatisfy { $0["in"] == "query" })
            #expect(params.map { $0["required"] } == [true, false])
            #expect(params[1]["schema"]?["default"] == 3)
            let lookup = try #require(doc["paths"]?["/lookup"]?["get"]?["parameters"]?.arrayValue)
            #expect(lookup.map { $0["name"] } == ["id"])
            #expect(lookup[0]["schema"]?["type"] == "integer")
            #expect(doc["paths"]?["/lookup"]?["post"] == nil)
        }
    }

    @Test func builtInPathsAndBackgroundRoutes() async throws {
        try await withService { cat in
            let doc = try await makeRouter(cat).openAPIDocument
            let jobs = try #require(doc["paths"]?["/jobs/{job_id}"]?["get"])
            #expect(jobs["parameters"]?[0]?["name"] == "job_id")
            #expect(jobs["parameters"]?[0]?["in"] == "path")
            #expect(responseSchema(doc, "/jobs/{job_id}", "get") == ["$ref": "#/components/schemas/JobStatusResponse"])
            let media = try #require(doc["paths"]?["/media/{path}"]?["get"])
            #expect(media["parameters"]?[0]?["name"] == "path")
            #expect(media["parameters"]?[0]?["in"] == "path")
            // Background routes answer a job handle, whatever they do.
            #expect(responseSchema(doc, "/slow") == ["$ref": "#/components/schemas/BackgroundJobResponse"])
            #expect(responseSchema(doc, "/slow-search") == ["$ref": "#/components/schemas/BackgroundJobResponse"])
            #expect(doc["components"]?["schemas"]?["SlowResponse"] == nil)
            let job = try #require(doc["components"]?["schemas"]?["BackgroundJobResponse"])
            #expect(job["properties"]?.objectValue?.keys == ["id", "job_url"])
            #expect(job["required"] == ["id", "job_url"])
            let status = try #require(doc["components"]?["schemas"]?["JobStatusResponse"])
            #expect(status["properties"]?.objectValue?.keys == ["status", "error", "result"])
            #expect(status["properties"]?["status"]?["enum"] == ["pending", "done", "error"])
            // Every operation documents FastAPI's validation error.
            // FastAPI's validation errors, or an engine error refusing a value.
            #expect(
                doc["paths"]?["/x"]?["post"]?["responses"]?["422"]?["content"]?["application/json"]?["schema"]
                    == ["anyOf": [["$ref": "#/components/schemas/HTTPValidationError"], ["$ref": "#/components/schemas/ErrorResponse"]]])
            // Every other status a route answers is declared, with the {"detail": …} shape.
            let responses = doc["paths"]?["/x"]?["post"]?["responses"]?.objectValue?.keys.sorted() ?? []
            #expect(responses == ["200", "400", "404", "409", "413", "415", "422", "503"])
        }
    }

    @Test func aPrefixAppliesToEveryPathBuiltInsIncluded() async throws {
        try await withService { cat in
            let doc = try await makeRouter(cat, prefix: "/v1").openAPIDocument
            let paths = try #require(doc["paths"]?.objectValue?.keys)
            #expect(paths.allSatisfy { $0.hasPrefix("/v1/") }, "\(paths)")
            #expect(paths.contains("/v1/jobs/{job_id}"))
            #expect(paths.contains("/v1/media/{path}"))
            // Component names come from the route's own path.
            #expect(doc["components"]?["schemas"]?["XResponse"] != nil)
            #expect(doc["paths"]?["/v1/x"]?["post"]?["operationId"] == "insert_x_x_post")
        }
    }

    @Test func theDocumentIsValidOpenAPI() async throws {
        let probe = try await python(["-c", "import openapi_spec_validator"], input: "")
        guard probe.status == 0 else {
            print("skipping the openapi-spec-validator check: python3 cannot import openapi_spec_validator (\(probe.output.split(separator: "\n").last ?? ""))")
            return
        }
        try await withService { cat in
            for prefix in ["", "/v1"] {
                let doc = try await makeRouter(cat, prefix: prefix).openAPIDocument
                let script = """
                    import json, sys
                    from openapi_spec_validator import validate
                    validate(json.load(sys.stdin))
                    print("valid")
                    """
                let r = try await python(["-c", script], input: JSONWriter.compact.string(doc))
                #expect(r.status == 0, "\(r.output)")
                #expect(r.output.hasSuffix("valid\n"), "\(r.output)")
                // Later tests use other tables in the same catalog.
                try await cat.drop("films")
            }
        }
    }

    @Test func docsPageIsSelfContainedAndHasAFormPerOperation() async throws {
        try await withService { cat in
            let router = try await makeRouter(cat)
            let server = try await RunningServer.start(router)
            defer { Task { await server.stop() } }
            let r = try await http(server.port, "GET", "/docs")
            #expect(r.status == 200)
            #expect(r.headers.first { $0.key.lowercased() == "content-type" }?.value.hasPrefix("text/html") == true)
            let html = r.text
            #expect(html.hasPrefix("<!doctype html>"))
            #expect(html.contains("<title>films-service - docs</title>"))
            let doc = router.openAPIDocument
            let paths = try #require(doc["paths"]?.objectValue)
            for (path, _) in paths {
                #expect(html.contains("<code>\(path)</code>"), "no section for \(path)")
            }
            // One form per operation.
            let operations = paths.reduce(0) { $0 + ($1.value.objectValue?.count ?? 0) }
            #expect(operations == router.routeCount + 2)
            #expect(html.components(separatedBy: "<form ").count - 1 == operations)
            #expect(html.contains("data-method=\"get\" data-path=\"/lookup\""))
            #expect(html.contains("data-method=\"post\" data-path=\"/x\""))
            // Nothing is loaded from elsewhere: no external scripts or stylesheets.
            let lower = html.lowercased()
            for tag in lower.components(separatedBy: "<script").dropFirst() + lower.components(separatedBy: "<link").dropFirst() {
                let head = tag.prefix { $0 != ">" }
                #expect(!head.contains("http://") && !head.contains("https://") && !head.contains("src=\"//"), "external resource: \(head)")
            }
            #expect(!lower.contains("@import"))
            #expect(!lower.contains("src=\"http"))
            #expect(!lower.contains("href=\"http"))
            // The OpenAPI link points at the document served alongside.
            #expect(html.contains("<a href=\"/openapi.json\">"))
        }
    }
}

import Foundation
import Hummingbird
import Logging
import Pixeltable
import PixeltableServing
import PixeltableTestSupport
import Synchronization
import Testing

@Suite struct MediaRouteTests {
    /// An images table: an uploaded photo, a width form field, and computed images.
    func makeImages(_ cat: Catalog) async throws -> Table {
        try await cat.createTable(
            "images",
            columns: [
                .init("id", .int), .init("photo", .image), .init("width", .int), .init("tag", .string),
                .computed("thumbnail", "photo.thumbnail((32, 32))"), .computed("gray", "photo.convert('L')"),
            ], primaryKey: ["id"])
    }

    func jpegBytes(_ w: Int = 80, _ h: Int = 60) throws -> [UInt8] {
        try ImageCodec.encode(TestImages.pattern(w, h), as: .jpeg)
    }

    func tmpFiles(_ cat: Catalog) -> [String] { (try? FileManager.default.contentsOfDirectory(atPath: cat.home.tmpDirectory)) ?? [] }

    @Test func uploadInsertStoresTheFileAndAnswersWithURLsThatServeIt() async throws {
        try await withService { cat in
            let t = try await makeImages(cat)
            let router = try ServiceRouter(catalog: cat)
            try await router.addInsertRoute(t, path: "/upload", inputs: ["id", "width"], uploadFileInputs: ["photo"], outputs: ["id", "width", "photo", "thumbnail"])
            let s = try await RunningServer.start(router)
            defer { Task { await s.stop() } }
            let original = try jpegBytes()
            let form = multipart(fields: [("id", "1"), ("width", "640")], files: [("photo", "cat.jpg", "image/jpeg", original)])
            let r = try await rawHTTP(s.port, "POST", "/upload", headers: ["Content-Type": form.contentType], body: form.body)
            #expect(r.status == 200, "\(r.text)")
            let json = try JSONParser.parse(bytes: r.body)
            // Form fields are converted by column type.
            #expect(json["id"] == 1 && json["width"] == 640)
            let photoURL = try #require(json["photo"]?.stringValue)
            let thumbURL = try #require(json["thumbnail"]?.stringValue)
            // Absolute URLs to /media, the stored file's path relative to the home.
            #expect(photoURL.hasPrefix("http://127.0.0.1:\(s.port)/media/media/\(t.id)/"))
            #expect(photoURL.hasSuffix(".jpg"))
            let photo = try await rawHTTP(s.port, "GET", pathOf(photoURL))
            #expect(photo.status == 200 && photo.body == original)
            #expect(photo.headers["content-type"] == "image/jpeg")
            let thumb = try await rawHTTP(s.port, "GET", pathOf(thumbURL))
            let img = try ImageCodec.decode(thumb.body)
            #expect(img.width == 32 && img.height == 24)
            // The upload's temporary file is gone; the stored file is under media/.
            #expect(tmpFiles(cat).isEmpty)
            #expect(try await t.count() == 1)
            // A bad form value is a 422 naming the field; nothing is stored.
            let bad = multipart(fields: [("id", "2"), ("width", "wide")], files: [("photo", "cat.jpg", "image/jpeg", original)])
            let r2 = try await rawHTTP(s.port, "POST", "/upload", headers: ["Content-Type": bad.contentType], body: bad.body)
            #expect(r2.status == 422)
            let d = try JSONParser.parse(bytes: r2.body)
            #expect(d["detail"]?[0]?["loc"] == ["body", "width"])
            #expect(d["detail"]?[0]?["type"] == "int_parsing")
            // A missing file part is a 422 too.
            let nofile = multipart(fields: [("id", "3")])
            let r3 = try await rawHTTP(s.port, "POST", "/upload", headers: ["Content-Type": nofile.contentType], body: nofile.body)
            #expect(r3.status == 422)
            #expect(try JSONParser.parse(bytes: r3.body)["detail"]?[0] == ["type": "missing", "loc": ["body", "photo"], "msg": "Field required", "input": .null])
            // JSON sent to a multipart route is refused.
            let r4 = try await http(s.port, "POST", "/upload", json: ["id": 4])
            #expect(r4.status == 415)
            #expect(try await t.count() == 1)
            #expect(tmpFiles(cat).isEmpty)
        }
    }

    @Test func uploadsThatAreNotImagesTruncatedOrTooLargeStoreNothing() async throws {
        try await withService { cat in
            let t = try await makeImages(cat)
            var conf = ServiceRouter.Configuration()
            conf.maxUploadBytes = 50_000
            let router = try ServiceRouter(catalog: cat, configuration: conf)
            try await router.addInsertRoute(t, path: "/upload", inputs: ["id"], uploadFileInputs: ["photo"])
            let s = try await RunningServer.start(router)
            defer { Task { await s.stop() } }
            let good = try jpegBytes()
            let cases: [([UInt8], Int, String)] = [
                (Array("plain text".utf8), 422, "not a valid image"),
                (Array(good.prefix(good.count / 2)), 422, "image file is truncated"),
                (try jpegBytes(1200, 900) + [UInt8](repeating: 7, count: 60_000), 413, "upload limit"),
            ]
            for (bytes, status, message) in cases {
                let form = multipart(fields: [("id", "1")], files: [("photo", "x.jpg", "image/jpeg", bytes)])
                let r = try await rawHTTP(s.port, "POST", "/upload", headers: ["Content-Type": form.contentType], body: form.body)
                #expect(r.status == status, "\(r.text)")
                #expect(r.text.contains(message), "\(r.text)")
            }
            #expect(try await t.count() == 0)
            #expect(tmpFiles(cat).isEmpty)
            let media = FileManager.default.enumerator(atPath: cat.home.mediaDirectory)?.allObjects ?? []
            #expect(media.isEmpty)
        }
    }

    @Test func insertByHTTPURLFetchesIntoTheFileCache() async throws {
        try await withService { cat in
            let t = try await makeImages(cat)
            // A file server on loopback, standing in for a remote host.
            let original = try jpegBytes(50, 40)
            let files = Router()
            files.get("/pics/cat.jpg") { _, _ in Response(status: .ok, headers: [.contentType: "image/jpeg"], body: .init(byteBuffer: ByteBuffer(bytes: original))) }
            let port = Mutex<Int?>(nil)
            var quiet = Logger(label: "test-file-server")
            quiet.logLevel = .critical
            let app = Application(
                router: files, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                onServerRunning: { ch in port.withLock { $0 = ch.localAddress?.port } }, logger: quiet)
            let remote = Task { try await app.runService() }
            defer { remote.cancel() }
            var p: Int? = nil
            for _ in 0..<300 where p == nil {
                p = port.withLock { $0 }
                try await Task.sleep(for: .milliseconds(10))
            }
            let remotePort = try #require(p)
            let router = try ServiceRouter(catalog: cat)
            try await router.addInsertRoute(t, path: "/add", inputs: ["id", "photo"], outputs: ["photo", "thumbnail"])
            let s = try await RunningServer.start(router)
            defer { Task { await s.stop() } }
            let url = "http://127.0.0.1:\(remotePort)/pics/cat.jpg"
            let r = try await http(s.port, "POST", "/add", json: ["id": 1, "photo": .string(url)])
            #expect(r.status == 200, "\(r.text)")
            // A remote reference is kept as given; what it computed is stored and served.
            #expect(r.json["photo"] == .string(url))
            let thumb = try await rawHTTP(s.port, "GET", pathOf(r.json["thumbnail"]!.stringValue!))
            #expect(try ImageCodec.decode(thumb.body).width == 32)
            let cached = try FileManager.default.contentsOfDirectory(atPath: cat.home.fileCacheDirectory).filter { !$0.hasPrefix(".") }
            #expect(cached.count == 1)
            #expect(FileManager.default.contents(atPath: cat.home.fileCacheDirectory + "/" + cached[0]).map { [UInt8]($0) } == original)
            // A URL that answers 404 is an error naming it; nothing is stored.
            let r2 = try await http(s.port, "POST", "/add", json: ["id": 2, "photo": .string("http://127.0.0.1:\(remotePort)/pics/none.jpg")])
            #expect(r2.status == 422)
            #expect(r2.text.contains("404"))
            #expect(try await t.count() == 1)
        }
    }

    @Test func mediaServesOnlyItsThreeDirectoriesWithRangesAndCaching() async throws {
        try await withService { cat in
            let t = try await makeImages(cat)
            let router = try ServiceRouter(catalog: cat)
            try await router.addInsertRoute(t, path: "/upload", inputs: ["id"], uploadFileInputs: ["photo"], outputs: ["photo"])
            let s = try await RunningServer.start(router)
            defer { Task { await s.stop() } }
            let original = try jpegBytes(120, 90)
            let form = multipart(fields: [("id", "1")], files: [("photo", "p.jpg", "image/jpeg", original)])
            let r = try await rawHTTP(s.port, "POST", "/upload", headers: ["Content-Type": form.contentType], body: form.body)
            let path = pathOf(try JSONParser.parse(bytes: r.body)["photo"]!.stringValue!)
            // Byte ranges.
            var g = try await rawHTTP(s.port, "GET", path, headers: ["Range": "bytes=0-9"])
            #expect(g.status == 206 && g.body == Array(original.prefix(10)))
            #expect(g.headers["content-range"] == "bytes 0-9/\(original.count)")
            g = try await rawHTTP(s.port, "GET", path, headers: ["Range": "bytes=-5"])
            #expect(g.status == 206 && g.body == Array(original.suffix(5)))
            g = try await rawHTTP(s.port, "GET", path, headers: ["Range": "bytes=100-"])
            #expect(g.status == 206 && g.body == Array(original.dropFirst(100)))
            g = try await rawHTTP(s.port, "GET", path, headers: ["Range": "bytes=\(original.count + 10)-"])
            #expect(g.status == 416 && g.headers["content-range"] == "bytes */\(original.count)")
            // Validators.
            g = try await rawHTTP(s.port, "GET", path)
            let etag = try #require(g.headers["etag"])
            #expect(g.headers["last-modified"] != nil && g.headers["accept-ranges"] == "bytes" && g.headers["x-content-type-options"] == "nosniff")
            g = try await rawHTTP(s.port, "GET", path, headers: ["If-None-Match": etag])
            #expect(g.status == 304 && g.body.isEmpty)
            g = try await rawHTTP(s.port, "GET", path, headers: ["If-Range": "\"stale\"", "Range": "bytes=0-0"])
            #expect(g.status == 200 && g.body == original)
            // Everything outside media/, tmp/ and file_cache/ is 404, however it is spelled.
            let outside = cat.home.path + "-outside"
            defer { try? FileManager.default.removeItem(atPath: outside) }
            _ = FileManager.default.createFile(atPath: outside, contents: Data("secret".utf8))
            try FileManager.default.createSymbolicLink(atPath: cat.home.mediaDirectory + "/escape", withDestinationPath: outside)
            let relDB = "pixeltable.db"
            let attempts = [
                "/media/" + relDB, "/media/media/../pixeltable.db", "/media/media/%2e%2e/pixeltable.db", "/media/media%2f..%2fpixeltable.db",
                "/media/%2e%2e/%2e%2e/etc/passwd", "/media/media/escape", "/media/media/x%00.jpg", "/media/media", "/media/", "/media/tmp/..%2f" + relDB,
                "/media/media/\(t.id)/../../pixeltable.db", "/media/%ZZ",
            ]
            for a in attempts {
                let x = try await rawHTTP(s.port, "GET", a)
                #expect(x.status == 404, "\(a) answered \(x.status)")
                if x.status == 404 && !x.body.isEmpty { #expect(x.text == #"{"detail":"not found"}"#, "\(a)") }
            }
        }
    }

    @Test func fileResponsesOnInsertAndQueryRoutes() async throws {
        try await withService { cat in
            let t = try await makeImages(cat)
            let router = try ServiceRouter(catalog: cat)
            try await router.addInsertRoute(t, path: "/gray", inputs: ["id", "tag"], uploadFileInputs: ["photo"], outputs: ["gray"], returnFileResponse: true)
            let module = try ModuleFile.parse(
                """
                [[query]]
                name = "by_tag"
                table = "images"
                params = { tag = "String" }
                select = ["thumbnail"]
                where = "tag == :tag"
                """, file: "queries.toml")
            let q = try await module.query(named: "by_tag")!.compile(cat)
            try await router.addQueryRoute(path: "/thumb", query: q, returnFileResponse: true, method: .get)
            try await router.addUpdateRoute(t, path: "/retag", inputs: ["tag"], outputs: ["thumbnail"], returnFileResponse: true)
            let s = try await RunningServer.start(router)
            defer { Task { await s.stop() } }
            for (id, tag) in [(1, "a"), (2, "b"), (3, "b")] {
                let form = multipart(fields: [("id", "\(id)"), ("tag", tag)], files: [("photo", "p.jpg", "image/jpeg", try jpegBytes())])
                let r = try await rawHTTP(s.port, "POST", "/gray", headers: ["Content-Type": form.contentType], body: form.body)
                #expect(r.status == 200)
                // The raw file, as its type says: a grayscale JPEG (its source was a JPEG).
                #expect(r.headers["content-type"] == "image/jpeg")
                let img = try ImageCodec.decode(r.body)
                #expect(img.mode == .l && img.width == 80)
            }
            var r = try await rawHTTP(s.port, "GET", "/thumb?tag=a")
            #expect(r.status == 200 && r.headers["content-type"] == "image/jpeg")
            #expect(try ImageCodec.decode(r.body).width == 32)
            // An update route answers with the file too.
            r = try await rawHTTP(s.port, "POST", "/retag", headers: ["Content-Type": "application/json"], body: Array(#"{"id": 1, "tag": "z"}"#.utf8))
            #expect(r.status == 200 && r.headers["content-type"] == "image/jpeg")
            #expect(try ImageCodec.decode(r.body).width == 32)
            r = try await rawHTTP(s.port, "POST", "/retag", headers: ["Content-Type": "application/json"], body: Array(#"{"id": 99, "tag": "z"}"#.utf8))
            #expect(r.status == 404)
            r = try await rawHTTP(s.port, "GET", "/thumb?tag=z")
            #expect(r.status == 200)
            r = try await rawHTTP(s.port, "GET", "/thumb?tag=none")
            #expect(r.status == 404 && r.text == #"{"detail":"query returned no rows"}"#)
            r = try await rawHTTP(s.port, "GET", "/thumb?tag=b")
            #expect(r.status == 409)
            // Registration checks, with Pixeltable's messages.
            await #expect(throws: PixeltableError.self) {
                try await router.addInsertRoute(t, path: "/two", outputs: ["gray", "thumbnail"], returnFileResponse: true)
            }
            do {
                try await router.addInsertRoute(t, path: "/bg", outputs: ["gray"], returnFileResponse: true, background: true)
                Issue.record("registered")
            } catch let error as PixeltableError {
                #expect(error.message == "add_insert_route(): return_fileresponse and background are mutually exclusive")
            }
            do {
                try await router.addInsertRoute(t, path: "/notmedia", inputs: ["id"], uploadFileInputs: ["tag"])
                Issue.record("registered")
            } catch let error as PixeltableError {
                #expect(error.message == "add_insert_route(): uploadfile input column 'tag' is not a media column")
            }
        }
    }

    @Test func openAPIDescribesMultipartBodiesAndFileResponses() async throws {
        try await withService { cat in
            let t = try await makeImages(cat)
            let router = try ServiceRouter(catalog: cat)
            try await router.addInsertRoute(t, path: "/resize", inputs: ["id", "width"], uploadFileInputs: ["photo"], outputs: ["gray"], returnFileResponse: true)
            let doc = router.openAPIDocument
            let op = doc["paths"]?["/resize"]?["post"]
            let schemaRef = op?["requestBody"]?["content"]?["multipart/form-data"]?["schema"]?["$ref"]?.stringValue
            let name = try #require(schemaRef?.split(separator: "/").last.map(String.init))
            let body = doc["components"]?["schemas"]?[name]
            #expect(body?["properties"]?["photo"]?["format"] == "binary")
            #expect(body?["properties"]?["width"]?["anyOf"] != nil)
            #expect(body?["required"]?.arrayValue?.contains("photo") == true)
            #expect(op?["responses"]?["200"]?["content"]?["image/*"]?["schema"]?["format"] == "binary")
        }
    }

    @Test func backgroundUploadsFinishAndCleanUp() async throws {
        try await withService { cat in
            let t = try await makeImages(cat)
            let router = try ServiceRouter(catalog: cat)
            try await router.addInsertRoute(t, path: "/bg", inputs: ["id"], uploadFileInputs: ["photo"], outputs: ["id", "thumbnail"], background: true)
            let s = try await RunningServer.start(router)
            defer { Task { await s.stop() } }
            let form = multipart(fields: [("id", "7")], files: [("photo", "p.png", "image/png", try ImageCodec.encode(TestImages.pattern(40, 40), as: .png))])
            let r = try await rawHTTP(s.port, "POST", "/bg", headers: ["Content-Type": form.contentType], body: form.body)
            let job = try JSONParser.parse(bytes: r.body)
            let done = try await awaitJob(s.port, job["job_url"]!.stringValue!)
            #expect(done["status"] == "done")
            #expect(done["result"]?["thumbnail"]?.stringValue?.contains("/media/media/") == true)
            #expect(tmpFiles(cat).isEmpty)
        }
    }
}

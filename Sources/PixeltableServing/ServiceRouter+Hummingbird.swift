import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Pixeltable

extension ServiceRouter {
    /// Adds every registered route, plus `/jobs/{job_id}`, `/media/{path}`, `/openapi.json` and
    /// `/docs`, to a Hummingbird router (under this router's prefix). Register routes first:
    /// routes added after mounting are not served.
    ///
    /// - Parameter docsPrefix: Where `/openapi.json` and `/docs` go; by default under the
    ///   router's prefix (`pxt serve` puts them at the root, as FastAPI does).
    ///
    /// With ``Configuration/cors`` or ``Configuration/auth`` set, every route mounted here passes
    /// through their middleware (preflights first, then credentials); other routes of `router`
    /// are not affected.
    public func mount<Context: RequestContext>(on base: Router<Context>, docsPrefix: String? = nil) {
        let docs = docsPrefix ?? prefix
        let router = base.group()
        if let cors = configuration.cors { router.add(middleware: CORSMiddleware<Context>(policy: cors)) }
        if let authenticator { router.add(middleware: AuthMiddleware<Context>(authenticator: authenticator)) }
        var methods: [String: Set<String>] = [:]
        for spec in allRoutes {
            router.on(RouterPath(prefix + spec.path), method: spec.method == .get ? .get : .post) { request, _ in
                await self.respond(spec, request)
            }
            methods[prefix + spec.path, default: []].insert(spec.method == .get ? "GET" : "POST")
        }
        // Another method on a route's path is 405 naming the allowed ones, as Starlette answers:
        // the usual ones through the group (credentials first), any other when nothing matched.
        base.add(middleware: MethodNotAllowedMiddleware<Context>(allowed: methods.mapValues { $0.sorted().joined(separator: ", ") }))
        for (path, allowed) in methods {
            let allow = allowed.sorted().joined(separator: ", ")
            // OPTIONS reaches the CORS middleware (which answers preflights) only through a route.
            for other in ["GET", "POST", "PUT", "DELETE", "PATCH", "TRACE", "OPTIONS"] where !allowed.contains(other) {
                guard let method = HTTPRequest.Method(other) else { continue }
                router.on(RouterPath(path), method: method) { _, _ in
                    var response = Self.json(405, ["detail": "Method Not Allowed"])
                    response.headers[.allow] = allow
                    return response
                }
            }
        }
        router.get(RouterPath(prefix + "/jobs/:job_id")) { _, context in
            let id = context.parameters.get("job_id") ?? ""
            do throws(PixeltableError) {
                guard let s = try await self.jobs.status(id) else { return Self.json(404, ["detail": "unknown job id"]) }
                return Self.json(200, s)
            } catch {
                return Self.json(error.httpStatus, ["detail": error.dictionary])
            }
        }
        // The document does not change once routes are mounted: build it once.
        let document = openAPIDocument
        let openAPIBytes = ByteBuffer(string: JSONWriter.compact.string(document))
        let docsPage = ByteBuffer(string: DocsPage.render(document, openAPIPath: docs + "/openapi.json"))
        router.get(RouterPath(docs + "/openapi.json")) { _, _ in
            var h = HTTPFields()
            h[.contentType] = "application/json"
            return Response(status: .ok, headers: h, body: .init(byteBuffer: openAPIBytes))
        }
        router.get(RouterPath(docs + "/docs")) { _, _ in
            var h = HTTPFields()
            h[.contentType] = "text/html; charset=utf-8"
            return Response(status: .ok, headers: h, body: .init(byteBuffer: docsPage))
        }
        let mediaPrefix = prefix + "/media/"
        let media: @Sendable (Request, Context) async throws -> Response = { request, _ in
            self.media(request, mediaPrefix: mediaPrefix)
        }
        router.get(RouterPath(prefix + "/media/**"), use: media)
        router.head(RouterPath(prefix + "/media/**"), use: media)
        if configuration.cors != nil {
            for path in [prefix + "/jobs/:job_id", prefix + "/media/**", docs + "/openapi.json", docs + "/docs"] {
                router.on(RouterPath(path), method: .options) { _, _ in Self.json(405, ["detail": "Method Not Allowed"]) }
            }
        }
    }

    /// Serves a file under the home's media, tmp or file-cache directory; anything else is
    /// `404 {"detail":"not found"}`.
    func media(_ request: Request, mediaPrefix: String) -> Response {
        let notFound = Self.json(404, ["detail": "not found"])
        var target = Substring(request.head.path ?? "")
        if let q = target.firstIndex(of: "?") { target = target[..<q] }
        guard target.hasPrefix(mediaPrefix) else { return notFound }
        let home = catalog.home
        guard let path = MediaLinks.resolve(rawPath: target.dropFirst(mediaPrefix.count), home: home),
            let file = FileResponder.OpenFile(path: path),
            // A link swapped in after the check is caught here: what was opened must be servable.
            let real = file.realPath, MediaLinks.isServable(real, home: home)
        else { return notFound }
        return FileResponder.respond(file, contentType: MediaTypes.type(forPath: path), request: request)
    }

    /// `response` marked `Connection: close`: the request's body was not read, so the
    /// connection ends after it (see ``LingeringCloseHandler``).
    static func closing(_ response: Response) -> Response {
        var r = response
        r.headers[.connection] = "close"
        return r
    }

    static func json(_ status: Int, _ value: JSONValue) -> Response {
        var h = HTTPFields()
        h[.contentType] = "application/json"
        var bytes: [UInt8] = []
        bytes.reserveCapacity(128)
        JSONWriter.compact.write(value, into: &bytes)
        return Response(status: .init(code: status), headers: h, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// What media URLs in responses to `request` start with: `http://host:port[/prefix]`.
    func links(for request: Request) -> MediaLinks {
        MediaLinks(store: catalog.media, base: "http://\(request.head.authority ?? "localhost")\(prefix)", signer: authenticator?.signer)
    }

    func respond(_ spec: RouteSpec, _ request: Request) async -> Response {
        let fields: [String: Value]
        var uploaded: MultipartForm? = nil
        if spec.isMultipart {
            switch await readForm(spec, request) {
            case .success(let f):
                do {
                    fields = try RequestDecoder.decodeForm(f, inputs: spec.inputs, uploads: spec.uploads)
                } catch {
                    f.removeFiles()
                    return Self.json(422, error.body)
                }
                uploaded = f
            case .failure(let answer):
                return answer.response
            }
        } else {
            var req = request
            let body: [UInt8]
            if spec.method == .post {
                if let type = request.headers[.contentType], !Self.isJSON(type) {
                    // Checked before the body is read. A page on another site can make a browser
                    // send `text/plain` or a form without asking first (CORS lets such "simple"
                    // requests through); only JSON is acted on.
                    return Self.closing(Self.json(415, ["detail": "Unsupported Media Type: this endpoint takes application/json"]))
                }
                let limit = configuration.maxBodyBytes
                if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
                    return Self.closing(Self.json(413, ["detail": .string("request body exceeds the \(limit)-byte limit")]))
                }
                do {
                    let buffer = try await req.collectBody(upTo: limit)
                    body = Array(buffer.readableBytesView)
                } catch {
                    return Self.closing(Self.json(413, ["detail": .string("request body exceeds the \(limit)-byte limit")]))
                }
            } else {
                body = []
            }
            let query = spec.method == .get ? QueryString.parse(target: request.head.path ?? "") : [:]
            do {
                fields = try RouteExecutor.fields(spec, body: body, query: query, maxDepth: configuration.maxNestingDepth)
            } catch {
                return Self.json(422, error.body)
            }
        }
        let links = links(for: request)
        if spec.background {
            let host = request.head.authority ?? "localhost"
            do {
                let form = uploaded
                let id = try await jobs.submit(route: "\(spec.method.rawValue.uppercased()) \(spec.path)") { id in
                    // Uploaded files stay in tmp/ until the job is done with them.
                    defer { form?.removeFiles() }
                    return await RouteExecutor.perform(spec, fields, links: links, jobID: id)
                }
                return Self.json(200, ["id": .string(id), "job_url": .string("http://\(host)\(prefix)/jobs/\(id)")])
            } catch {
                uploaded?.removeFiles()
                return Self.json(error.httpStatus, ["detail": error.dictionary])
            }
        }
        let answer = await RouteExecutor.perform(spec, fields, links: links)
        defer { uploaded?.removeFiles() }
        if let path = answer.file {
            guard let file = FileResponder.OpenFile(path: path) else { return Self.json(500, ["detail": .string("output file not found: '\(spec.outputs.first?.name ?? "")'")]) }
            return FileResponder.respond(file, contentType: MediaTypes.type(forPath: path), request: request)
        }
        return Self.json(answer.status, answer.body)
    }

    /// `application/json` or `application/<anything>+json`, with or without parameters, in any
    /// case.
    static func isJSON(_ contentType: String) -> Bool {
        let type = contentType.split(separator: ";", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        return type == "application/json" || (type.hasPrefix("application/") && type.hasSuffix("+json"))
    }

    /// Reads a multipart request's parts, files to `tmp/`, or the error answer: 415 for another
    /// content type, 413 over the upload limit (nothing kept), 400 for a malformed body.
    func readForm(_ spec: RouteSpec, _ request: Request) async -> Result<MultipartForm, ResponseError> {
        guard let boundary = MultipartReader.boundary(contentType: request.headers[.contentType]) else {
            return .failure(ResponseError(Self.closing(Self.json(415, ["detail": "Unsupported Media Type: this endpoint takes multipart/form-data (it has file uploads)"]))))
        }
        let limit = configuration.maxUploadBytes
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
            return .failure(ResponseError(Self.closing(Self.json(413, ["detail": .string("request body exceeds the \(limit)-byte upload limit")]))))
        }
        let store = catalog.media
        let reader = MultipartReader(maxBytes: limit, fileFields: Set(spec.uploads), temporaryPath: { store.temporaryPath(extension: $0) })
        do {
            return .success(try await reader.read(request.body, boundary: boundary))
        } catch {
            switch error {
            case .tooLarge(let n): return .failure(ResponseError(Self.closing(Self.json(413, ["detail": .string("request body exceeds the \(n)-byte upload limit")]))))
            case .malformed(let m): return .failure(ResponseError(Self.json(400, ["detail": .string(m)])))
            case .storage(let m): return .failure(ResponseError(Self.json(500, ["detail": .string(m)])))
            }
        }
    }
}

/// An answer already made, carried as an error.
struct ResponseError: Error {
    let response: Response
    init(_ response: Response) { self.response = response }
}

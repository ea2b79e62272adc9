import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Pixeltable

extension ServiceRouter {
    /// Largest JSON request body accepted (16 MiB).
    static let maxBody = 16 << 20

    /// Adds every registered route, plus `/jobs/{job_id}`, `/media/{path}`, `/openapi.json` and
    /// `/docs`, to a Hummingbird router (under this router's prefix). Register routes first:
    /// routes added after mounting are not served.
    ///
    /// - Parameter docsPrefix: Where `/openapi.json` and `/docs` go; by default under the
    ///   router's prefix (`pxt serve` puts them at the root, as FastAPI does).
    public func mount<Context: RequestContext>(on router: Router<Context>, docsPrefix: String? = nil) {
        let docs = docsPrefix ?? prefix
        for spec in allRoutes {
            router.on(RouterPath(prefix + spec.path), method: spec.method == .get ? .get : .post) { request, _ in
                await self.respond(spec, request)
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
        router.get(RouterPath(prefix + "/media/**")) { _, context in
            self.media(context.parameters.getCatchAll().joined(separator: "/"))
        }
    }

    /// Serves a file under the home's media, tmp or file-cache directory; anything else is 404.
    func media(_ relative: String) -> Response {
        let home = catalog.home
        let target = URL(fileURLWithPath: home.path).appendingPathComponent(relative).standardizedFileURL.resolvingSymlinksInPath().path
        let allowed = [home.mediaDirectory, home.tmpDirectory, home.fileCacheDirectory].map { URL(fileURLWithPath: $0).resolvingSymlinksInPath().path }
        var isDir: ObjCBool = false
        guard allowed.contains(where: { target == $0 || target.hasPrefix($0 + "/") }), FileManager.default.fileExists(atPath: target, isDirectory: &isDir), !isDir.boolValue,
            let data = FileManager.default.contents(atPath: target)
        else {
            return Self.json(404, ["detail": "not found"])
        }
        var h = HTTPFields()
        h[.contentType] = MediaTypes.type(forPath: target)
        return Response(status: .ok, headers: h, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func json(_ status: Int, _ value: JSONValue) -> Response {
        var h = HTTPFields()
        h[.contentType] = "application/json"
        var bytes: [UInt8] = []
        bytes.reserveCapacity(128)
        JSONWriter.compact.write(value, into: &bytes)
        return Response(status: .init(code: status), headers: h, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    func respond(_ spec: RouteSpec, _ request: Request) async -> Response {
        var req = request
        let body: [UInt8]
        if spec.method == .post {
            do {
                let buffer = try await req.collectBody(upTo: Self.maxBody)
                body = Array(buffer.readableBytesView)
            } catch {
                return Self.json(413, ["detail": .string("request body exceeds the \(Self.maxBody)-byte limit")])
            }
        } else {
            body = []
        }
        let query = spec.method == .get ? QueryString.parse(target: request.head.path ?? "") : [:]
        let fields: [String: Value]
        do {
            fields = try RouteExecutor.fields(spec, body: body, query: query)
        } catch {
            return Self.json(422, error.body)
        }
        if spec.background {
            let host = request.head.authority ?? "localhost"
            do {
                let id = try await jobs.submit(route: "\(spec.method.rawValue.uppercased()) \(spec.path)") {
                    await RouteExecutor.perform(spec, fields)
                }
                return Self.json(200, ["id": .string(id), "job_url": .string("http://\(host)\(prefix)/jobs/\(id)")])
            } catch {
                return Self.json(error.httpStatus, ["detail": error.dictionary])
            }
        }
        let answer = await RouteExecutor.perform(spec, fields)
        return Self.json(answer.status, answer.body)
    }
}

/// Content types by file extension, for `/media`.
enum MediaTypes {
    static func type(forPath path: String) -> String {
        switch (path as NSString).pathExtension.lowercased() {
        case "jpg", "jpeg": return "image/jpeg"
        case "png": return "image/png"
        case "gif": return "image/gif"
        case "webp": return "image/webp"
        case "mp4": return "video/mp4"
        case "webm": return "video/webm"
        case "mov": return "video/quicktime"
        case "mp3": return "audio/mpeg"
        case "wav": return "audio/wav"
        case "ogg": return "audio/ogg"
        case "pdf": return "application/pdf"
        case "txt", "md": return "text/plain; charset=utf-8"
        case "html": return "text/html; charset=utf-8"
        case "json": return "application/json"
        default: return "application/octet-stream"
        }
    }
}

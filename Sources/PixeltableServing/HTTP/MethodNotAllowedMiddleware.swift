import HTTPTypes
import Hummingbird
import Pixeltable

/// Answers 405 with `Allow` for a method no route takes on a path the service serves — `QUERY`
/// or `PROPFIND` as well as `PUT` — as Starlette does, where the router alone would answer 404.
/// (A method the HTTP parser does not know is a 400 before any of this runs.)
///
/// It acts only on what nothing else answered (the router's not-found), so routes added to the
/// same router later, on the same paths with other methods, are served as usual.
struct MethodNotAllowedMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The methods of each served path (full paths, prefix included).
    let allowed: [String: String]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            guard let allow = allowed[request.uri.path] else { throw error }
            var response = ServiceRouter.json(405, ["detail": "Method Not Allowed"])
            response.headers[.allow] = allow
            return response
        }
    }
}

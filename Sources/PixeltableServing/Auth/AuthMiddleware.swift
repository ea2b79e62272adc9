import HTTPTypes
import Hummingbird
import Pixeltable

/// The Hummingbird adapter of ``Authenticator``: answers 401 (with `WWW-Authenticate: Bearer`,
/// RFC 6750) or 403 before the route handler runs, so no body is read for a refused request.
struct AuthMiddleware<Context: RequestContext>: RouterMiddleware {
    let authenticator: Authenticator

    static var apiKeyField: HTTPField.Name { HTTPField.Name("X-API-Key")! }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let target = Substring(request.head.path ?? "/")
        let q = target.firstIndex(of: "?")
        let path = q.map { target[..<$0] } ?? target
        let query = q.map { target[target.index(after: $0)...] }
        switch await authenticator.decide(
            path: path, query: query, authorization: request.headers[.authorization], apiKey: request.headers[Self.apiKeyField])
        {
        case .allowed:
            return try await next(request, context)
        case .unauthorized(let detail, let invalid):
            var response = ServiceRouter.json(401, ["detail": .string(detail)])
            response.headers[.wwwAuthenticate] = invalid ? "Bearer error=\"invalid_token\"" : "Bearer"
            // The body, if any, is not read: close rather than leave it in the socket.
            response.headers[.connection] = "close"
            return response
        case .forbidden(let detail):
            var response = ServiceRouter.json(403, ["detail": .string(detail)])
            response.headers[.connection] = "close"
            return response
        }
    }
}

import HTTPTypes
import Hummingbird
import Pixeltable

/// The Hummingbird adapter of ``Authenticator``: answers 401 (with `WWW-Authenticate: Bearer`,
/// RFC 6750) or 403 before the route handler runs, so no body is read for a refused request.
struct AuthMiddleware<Context: RequestContext>: RouterMiddleware {
    let authenticator: Authenticator

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var decision = authenticator.decide(target: request.head.path, authorization: request.headers[.authorization], apiKey: request.headers[.xAPIKey])
        // Only a token that is not an API key waits (on the JWT key collection's actor).
        if case .verifyToken(let token) = decision { decision = await authenticator.verify(token) }
        switch decision {
        case .allowed:
            return try await next(request, context)
        case .unauthorized(let detail, let invalid):
            var response = ServiceRouter.json(401, ["detail": .string(detail)])
            response.headers[.wwwAuthenticate] = invalid ? "Bearer error=\"invalid_token\"" : "Bearer"
            // The body, if any, is not read: close rather than leave it in the socket.
            response.headers[.connection] = "close"
            return response
        case .verifyToken:
            return ServiceRouter.json(500, ["detail": "token not verified"])
        case .forbidden(let detail):
            var response = ServiceRouter.json(403, ["detail": .string(detail)])
            response.headers[.connection] = "close"
            return response
        }
    }
}

extension HTTPField.Name {
    /// `X-API-Key`, made once: a name is validated each time one is made.
    static let xAPIKey = HTTPField.Name("X-API-Key")!
}

import HTTPTypes
import Hummingbird
import Pixeltable

/// Applies a ``CORSPolicy``: answers preflights (before authentication, as browsers send them
/// without credentials) and marks responses to allowed origins. Requests without `Origin` pass
/// untouched.
struct CORSMiddleware<Context: RequestContext>: RouterMiddleware {
    let policy: CORSPolicy

    static func field(_ name: String) -> HTTPField.Name { HTTPField.Name(name)! }
    // Only requests with an Origin make names; the others pass untouched.

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let origin = request.headers[.origin] else { return try await next(request, context) }
        if request.method == .options, let method = request.headers[Self.field("Access-Control-Request-Method")] {
            var h = HTTPFields()
            h[.vary] = "Origin"
            if let refusal = policy.preflightRefusal(origin: origin, method: method, headers: request.headers[Self.field("Access-Control-Request-Headers")]) {
                // No allow headers: the browser blocks the request.
                h[.contentType] = "application/json"
                return Response(status: .forbidden, headers: h, body: .init(byteBuffer: .init(string: JSONWriter.compact.string(["detail": .string("CORS preflight refused: \(refusal)")]))))
            }
            h[Self.field("Access-Control-Allow-Origin")] = policy.allowOriginValue(origin)
            h[Self.field("Access-Control-Allow-Methods")] = policy.allowMethods.joined(separator: ", ")
            if !policy.allowHeaders.isEmpty { h[Self.field("Access-Control-Allow-Headers")] = policy.allowHeaders.joined(separator: ", ") }
            if policy.allowCredentials { h[Self.field("Access-Control-Allow-Credentials")] = "true" }
            h[Self.field("Access-Control-Max-Age")] = String(policy.maxAge)
            return Response(status: .noContent, headers: h)
        }
        var response = try await next(request, context)
        if policy.allows(origin: origin) {
            response.headers[Self.field("Access-Control-Allow-Origin")] = policy.allowOriginValue(origin)
            if policy.allowCredentials { response.headers[Self.field("Access-Control-Allow-Credentials")] = "true" }
            if !policy.exposeHeaders.isEmpty { response.headers[Self.field("Access-Control-Expose-Headers")] = policy.exposeHeaders.joined(separator: ", ") }
        }
        response.headers[.vary] = "Origin"
        return response
    }
}

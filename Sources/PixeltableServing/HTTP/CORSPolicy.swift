import Foundation
import Pixeltable

/// Which other web origins may call a service from a browser (`[service.cors]`): nothing by
/// default. A preflight `OPTIONS` is answered from the policy; other responses to an allowed
/// origin carry `Access-Control-Allow-Origin` (and `-Credentials` when allowed).
///
/// ```swift
/// configuration.cors = CORSPolicy(allowOrigins: ["https://app.example.com"], allowHeaders: ["Authorization", "Content-Type"])
/// ```
public struct CORSPolicy: Sendable, Hashable {
    /// Origins allowed, exactly as browsers send them (`https://app.example.com`), or `["*"]`
    /// for any (not with credentials).
    public var allowOrigins: [String]
    /// Methods a preflight may ask for.
    public var allowMethods: [String]
    /// Request headers a preflight may ask for (compared without regard to case).
    public var allowHeaders: [String]
    /// Whether browsers may send cookies and `Authorization` with cross-origin requests.
    public var allowCredentials: Bool
    /// Response headers scripts of other origins may read.
    public var exposeHeaders: [String]
    /// Seconds a browser may cache a preflight answer.
    public var maxAge: Int

    /// A policy; by default it allows no origin.
    public init(
        allowOrigins: [String] = [], allowMethods: [String] = ["GET", "POST"], allowHeaders: [String] = ["Authorization", "Content-Type", "X-API-Key"],
        allowCredentials: Bool = false, exposeHeaders: [String] = [], maxAge: Int = 600
    ) {
        self.allowOrigins = allowOrigins
        self.allowMethods = allowMethods
        self.allowHeaders = allowHeaders
        self.allowCredentials = allowCredentials
        self.exposeHeaders = exposeHeaders
        self.maxAge = maxAge
    }

    /// `"*"` with credentials is refused: browsers reject it, and echoing any origin instead
    /// would let every site act as the user.
    public func validate() throws(PixeltableError) {
        if allowCredentials && allowOrigins.contains("*") {
            throw PixeltableError(.invalidConfiguration, "cors: allow_credentials cannot be used with allow_origins = [\"*\"]; list the origins")
        }
        for o in allowOrigins where o != "*" && !(o.hasPrefix("http://") || o.hasPrefix("https://")) || o.hasSuffix("/") {
            throw PixeltableError(.invalidConfiguration, "cors: origin '\(o)' must be scheme://host[:port] with no path (or \"*\")")
        }
        if maxAge < 0 { throw PixeltableError(.invalidConfiguration, "cors: max_age must not be negative") }
    }

    /// Whether `origin` may call the service.
    public func allows(origin: String) -> Bool { allowOrigins.contains("*") || allowOrigins.contains(origin) }

    /// The `Access-Control-Allow-Origin` value for an allowed `origin`.
    func allowOriginValue(_ origin: String) -> String { allowOrigins.contains("*") ? "*" : origin }

    /// Why a preflight is refused, or `nil`.
    func preflightRefusal(origin: String, method: String, headers: String?) -> String? {
        guard allows(origin: origin) else { return "origin \(origin) is not allowed" }
        guard allowMethods.contains(where: { $0.caseInsensitiveCompare(method) == .orderedSame }) else { return "method \(method) is not allowed" }
        let asked = (headers ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }.filter { !$0.isEmpty }
        let allowed = Set(allowHeaders.map { $0.lowercased() })
        if let h = asked.first(where: { !allowed.contains($0) }) { return "header \(h) is not allowed" }
        return nil
    }

    var json: JSONValue {
        [
            "allow_origins": .array(allowOrigins.map { .string($0) }), "allow_methods": .array(allowMethods.map { .string($0) }),
            "allow_headers": .array(allowHeaders.map { .string($0) }), "allow_credentials": .bool(allowCredentials),
            "expose_headers": .array(exposeHeaders.map { .string($0) }), "max_age": .int(Int64(maxAge)),
        ]
    }
}

import Foundation
import Pixeltable

/// Who may call a service's routes (`[service.auth]` in a service file): API keys, JSON Web
/// Tokens, or both, and the paths served without credentials.
///
/// A request without valid credentials is answered `401` with `WWW-Authenticate: Bearer`
/// before its body is read. Media URLs in the responses of an authenticated service are signed
/// (`?exp=…&sig=…`), so an `<img src>` works without headers and a URL stops working when it
/// expires; a `/media/…` request without a valid signature needs credentials.
///
/// ```swift
/// var configuration = ServiceRouter.Configuration()
/// configuration.auth = ServiceAuth(apiKeys: [APIKey(key), APIKey(readOnlyKey, routes: ["/lookup"])],
///                                  publicPaths: ["/docs", "/openapi.json"])
/// let router = try ServiceRouter(catalog: catalog, configuration: configuration)
/// ```
public struct ServiceAuth: Sendable, Hashable, CustomStringConvertible {
    /// Keys sent as `Authorization: Bearer <key>` or `X-API-Key: <key>`.
    public var apiKeys: [APIKey]
    /// Tokens sent as `Authorization: Bearer <token>`, when set.
    public var jwt: JWTSettings?
    /// Request paths served without credentials, as clients request them (`/docs`); an entry
    /// ending in `/**` covers everything under it. A path also matches without the service's
    /// prefix, so `/openapi.json` covers `/api/openapi.json` of a service with prefix `/api`.
    public var publicPaths: [String]
    /// How long a signed media URL in a response stays valid, in seconds (default one hour).
    public var mediaURLLifetime: Int
    /// The key media URLs are signed with; `nil` uses a random key kept in the home
    /// (`media-url.key`, mode 0600), so every server on one home accepts the others' URLs.
    public var mediaURLSecret: String?

    /// An auth policy.
    ///
    /// - Parameters:
    ///   - apiKeys: Accepted API keys (none: only tokens are accepted).
    ///   - jwt: How tokens are verified (`nil`: tokens are not accepted).
    ///   - publicPaths: Paths served without credentials.
    ///   - mediaURLLifetime: Seconds a signed media URL stays valid.
    ///   - mediaURLSecret: The media URL signing key; `nil` for the home's.
    public init(apiKeys: [APIKey] = [], jwt: JWTSettings? = nil, publicPaths: [String] = [], mediaURLLifetime: Int = 3600, mediaURLSecret: String? = nil) {
        self.apiKeys = apiKeys
        self.jwt = jwt
        self.publicPaths = publicPaths
        self.mediaURLLifetime = mediaURLLifetime
        self.mediaURLSecret = mediaURLSecret
    }

    /// Whether `path` (a request path, query removed) is served without credentials: it, or it
    /// without the service's `prefix`, is one of ``publicPaths``, or lies under one ending in `/**`.
    public func isPublic(_ path: Substring, prefix: String) -> Bool {
        let local = !prefix.isEmpty && path.hasPrefix(prefix + "/") ? path.dropFirst(prefix.count) : path
        return publicPaths.contains { p in
            if p.hasSuffix("/**") {
                let base = p.dropLast(3)
                return path.hasPrefix(base + "/") || local.hasPrefix(base + "/") || path == base || local == base
            }
            return path == p || local == p
        }
    }

    /// The policy with every secret shown as `***`.
    public var description: String {
        "ServiceAuth(apiKeys: \(apiKeys), jwt: \(jwt.map(String.init(describing:)) ?? "nil"), publicPaths: \(publicPaths))"
    }

    /// Checks what a config file or caller can get wrong: no credential kind, an empty key, a
    /// lifetime that is not positive.
    public func validate() throws(PixeltableError) {
        if apiKeys.isEmpty && jwt == nil {
            throw PixeltableError(.invalidConfiguration, "auth needs api_keys, jwt or both (an auth section that accepts nothing would refuse every request)")
        }
        for (i, k) in apiKeys.enumerated() where k.key.isEmpty {
            throw PixeltableError(.invalidConfiguration, "api_keys[\(i)] is empty (is its environment variable set?)")
        }
        if mediaURLLifetime < 1 { throw PixeltableError(.invalidConfiguration, "media_url_lifetime must be a positive number of seconds (got \(mediaURLLifetime))") }
        if let s = mediaURLSecret, s.isEmpty { throw PixeltableError(.invalidConfiguration, "media_url_secret is empty") }
        try jwt?.validate()
    }

    /// The policy as `--dry-run --json` shows it: secrets as `***`.
    public var json: JSONValue {
        var o: JSONObject = [
            "api_keys": .array(apiKeys.map(\.json)),
            "jwt": jwt?.json ?? .null,
            "public": .array(publicPaths.map { .string($0) }),
            "media_url_lifetime": .int(Int64(mediaURLLifetime)),
        ]
        if mediaURLSecret != nil { o["media_url_secret"] = "***" }
        return .object(o)
    }
}

import Foundation
import Pixeltable

/// Reads `[service.auth]` and `[service.cors]` of a service file.
enum ServiceSecurityConfig {
    /// ```toml
    /// [service.auth]
    /// api_keys = ["${API_KEY_1}", { key = "${READER_KEY}", routes = ["/lookup"] }]
    /// jwt = { secret = "${JWT_SECRET}", issuer = "…", audience = "…" }   # or public_key_file = "…"
    /// public = ["/docs", "/openapi.json"]
    /// media_url_lifetime = 3600
    /// ```
    static func auth(_ r: TOMLReader) throws(PixeltableError) -> ServiceAuth {
        try r.checkKeys(["api_keys", "jwt", "public", "media_url_lifetime", "media_url_secret"])
        var a = ServiceAuth()
        if let n = r.table["api_keys"] {
            guard case .array(let items) = n.value else { throw r.typeError("api_keys", n, "a list of keys") }
            for (i, item) in items.enumerated() {
                let key: APIKey
                switch item.value {
                case .string(let s):
                    key = APIKey(try r.substituted(s, "api_keys", item))
                case .table(let t):
                    let k = TOMLReader(t, file: r.file, context: "api_keys[\(i)] of \(r.context)", line: item.line, environment: r.environment)
                    try k.checkKeys(["key", "routes"])
                    key = APIKey(try k.string("key", required: true)!, routes: try k.stringList("routes"))
                    if let routes = key.routes, let bad = routes.first(where: { !$0.hasPrefix("/") }) {
                        throw k.error("route '\(bad)' in api_keys[\(i)] must start with '/'", line: item.line)
                    }
                default:
                    throw r.typeError("api_keys", item, "a key string or a { key, routes } table")
                }
                // An unset variable with an empty default must not become a key that matches "".
                guard !key.key.isEmpty else { throw r.error("api_keys[\(i)] in \(r.context) is empty (is its environment variable set?)", line: item.line) }
                a.apiKeys.append(key)
            }
        }
        if let j = try r.subtable("jwt", context: "jwt of \(r.context)") {
            try j.checkKeys(["secret", "public_key_file", "issuer", "audience"])
            var s: JWTSettings
            if let secret = try j.string("secret") {
                s = JWTSettings(secret: secret)
                if try j.string("public_key_file") != nil { throw j.error("jwt takes secret or public_key_file, not both") }
            } else if let file = try j.string("public_key_file") {
                s = JWTSettings(publicKeyFile: file)
            } else {
                throw j.error("jwt needs secret (HS256) or public_key_file (RS256/ES256)")
            }
            s.issuer = try j.string("issuer")
            s.audience = try j.string("audience")
            do { try s.validate() } catch { throw j.error(error.message) }
            a.jwt = s
        }
        a.publicPaths = try r.stringList("public") ?? []
        if let bad = a.publicPaths.first(where: { !$0.hasPrefix("/") }) {
            throw r.error("public path '\(bad)' must start with '/'", line: r.table["public"]?.line)
        }
        if let l = try r.int("media_url_lifetime") {
            guard l > 0 else { throw r.error("media_url_lifetime must be a positive number of seconds (got \(l))", line: r.table["media_url_lifetime"]?.line) }
            a.mediaURLLifetime = l
        }
        a.mediaURLSecret = try r.string("media_url_secret")
        if a.apiKeys.isEmpty && a.jwt == nil { throw r.error("\(r.context) needs api_keys, jwt or both") }
        return a
    }

    /// ```toml
    /// [service.cors]
    /// allow_origins = ["https://app.example.com"]
    /// allow_methods = ["GET", "POST"]
    /// allow_headers = ["Authorization", "Content-Type"]
    /// allow_credentials = false
    /// ```
    static func cors(_ r: TOMLReader) throws(PixeltableError) -> CORSPolicy {
        try r.checkKeys(["allow_origins", "allow_methods", "allow_headers", "allow_credentials", "expose_headers", "max_age"])
        var c = CORSPolicy()
        c.allowOrigins = try r.stringList("allow_origins") ?? []
        if let m = try r.stringList("allow_methods") { c.allowMethods = m.map { $0.uppercased() } }
        if let h = try r.stringList("allow_headers") { c.allowHeaders = h }
        c.allowCredentials = try r.bool("allow_credentials") ?? false
        c.exposeHeaders = try r.stringList("expose_headers") ?? []
        if let m = try r.int("max_age") { c.maxAge = m }
        do { try c.validate() } catch { throw r.error(error.message) }
        return c
    }
}

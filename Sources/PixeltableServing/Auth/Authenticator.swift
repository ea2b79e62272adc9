import Crypto
import Foundation
import JWTKit
import Pixeltable

/// Decides whether a request may reach a service's routes under a ``ServiceAuth`` policy: the
/// framework-free core behind ``AuthMiddleware``.
///
/// Looks only at the method, path, query and two headers, so it runs before any body is read.
/// API keys are compared as SHA-256 digests, in constant time and against every key (neither a
/// key's length nor which key matched shows in the time taken).
final class Authenticator: Sendable {
    /// What becomes of a request.
    enum Decision: Sendable, Equatable {
        case allowed
        /// 401: `detail`, and whether credentials were sent (`error="invalid_token"`).
        case unauthorized(String, invalidCredentials: Bool)
        /// 403: authenticated, but the key may not call this route.
        case forbidden(String)
        /// Not an API key but shaped like a JWT: ``verify(_:)`` decides.
        case verifyToken(Substring)
    }

    struct Key: Sendable {
        let digest: [UInt8]
        let routes: Set<String>?
    }

    let keys: [Key]
    let auth: ServiceAuth
    let prefix: String
    let mediaPrefix: String
    let signer: MediaURLSigner
    let jwt: JWTVerifier?

    /// - Parameters:
    ///   - prefix: The router's prefix, stripped before matching route scopes and public paths.
    ///   - directory: Where a relative `public_key_file` is found.
    init(_ auth: ServiceAuth, prefix: String, home: HomeDirectory, directory: String? = nil) throws(PixeltableError) {
        try auth.validate()
        keys = auth.apiKeys.map { Key(digest: Self.digest(Substring($0.key)), routes: $0.routes.map(Set.init)) }
        self.auth = auth
        self.prefix = prefix
        mediaPrefix = prefix + "/media/"
        let secret: [UInt8]
        if let s = auth.mediaURLSecret { secret = Array(s.utf8) } else { secret = try MediaURLSigner.homeKey(home) }
        signer = MediaURLSigner(key: secret, lifetime: auth.mediaURLLifetime)
        if let settings = auth.jwt { jwt = try JWTVerifier(settings, directory: directory) } else { jwt = nil }
    }

    static func digest(_ s: Substring) -> [UInt8] {
        if let d = s.utf8.withContiguousStorageIfAvailable({ Array(Crypto.SHA256.hash(data: UnsafeRawBufferPointer($0))) }) { return d }
        return Array(Crypto.SHA256.hash(data: Array(s.utf8)))
    }

    /// The decision for a request. Synchronous, so that a request with an API key never
    /// suspends; a JSON Web Token comes back as ``Decision/verifyToken(_:)`` for ``verify(_:)``.
    ///
    /// - Parameters:
    ///   - path: The request path without its query.
    ///   - query: The query string (after `?`), if any.
    ///   - authorization: The `Authorization` header.
    ///   - apiKey: The `X-API-Key` header.
    func decide(path: Substring, query: Substring?, authorization: String?, apiKey: String?) -> Decision {
        if auth.isPublic(path, prefix: prefix) { return .allowed }
        // A signed media URL needs nothing else; a bad signature is the refusal's reason when
        // no credentials come with it.
        var mediaRefusal: String? = nil
        if path.hasPrefix(mediaPrefix), let query, let (exp, sig) = Self.signature(in: query) {
            mediaRefusal = signer.refusal(encodedPath: path.dropFirst(mediaPrefix.count), exp: exp, sig: sig)
            if mediaRefusal == nil { return .allowed }
        }
        let token: Substring
        if let apiKey, !apiKey.isEmpty {
            token = Substring(apiKey)
        } else if let authorization, let bearer = Self.bearer(authorization) {
            token = bearer
        } else {
            return .unauthorized(mediaRefusal ?? "Not authenticated", invalidCredentials: mediaRefusal != nil)
        }
        if let key = match(token) {
            guard let routes = key.routes else { return .allowed }
            let local = path.hasPrefix(prefix) ? path.dropFirst(prefix.count) : path
            if routes.contains(String(local)) || isBuiltIn(local) { return .allowed }
            return .forbidden("this API key may not call \(local)")
        }
        if jwt != nil, token.split(separator: ".", omittingEmptySubsequences: false).count == 3 { return .verifyToken(token) }
        return .unauthorized(jwt == nil ? "Invalid API key" : "Invalid API key or token", invalidCredentials: true)
    }

    /// The decision for a request target (`/path?query`), as it arrives.
    func decide(target: String?, authorization: String?, apiKey: String?) -> Decision {
        let t = Substring(target ?? "/")
        let q = t.firstIndex(of: "?")
        return decide(path: q.map { t[..<$0] } ?? t, query: q.map { t[t.index(after: $0)...] }, authorization: authorization, apiKey: apiKey)
    }

    /// The decision for a JSON Web Token (tokens carry no route scopes: a valid one may call
    /// every route).
    func verify(_ token: Substring) async -> Decision {
        guard let jwt else { return .unauthorized("Invalid API key", invalidCredentials: true) }
        if let refusal = await jwt.refusal(String(token)) { return .unauthorized(refusal, invalidCredentials: true) }
        return .allowed
    }

    /// The key `token` is, compared against every key whatever matches.
    func match(_ token: Substring) -> Key? {
        let d = Self.digest(token)
        var found: Int = -1
        for (i, k) in keys.enumerated() {
            var diff: UInt8 = 0
            for j in 0..<32 { diff |= d[j] ^ k.digest[j] }
            // No branch on the secret's bytes: select the index arithmetically.
            let equal = Int(diff == 0 ? 1 : 0)
            found = found * (1 - equal) + i * equal
        }
        return found >= 0 ? keys[found] : nil
    }

    /// The token of `Bearer <token>` (the scheme in any case), or `nil`.
    static func bearer(_ header: String) -> Substring? {
        let h = Substring(header).drop { $0 == " " }
        // Compared byte by byte, without making a lower-cased copy: this runs on every request.
        var bytes = h.utf8.makeIterator()
        for expected in "bearer ".utf8 {
            guard let b = bytes.next(), expected == 0x20 ? b == 0x20 : b | 0x20 == expected else { return nil }
        }
        let token = h.dropFirst(7).drop { $0 == " " }
        return token.isEmpty ? nil : token
    }

    /// `exp` and `sig` of a query string, when both are there.
    static func signature(in query: Substring) -> (Substring, Substring)? {
        var exp: Substring? = nil
        var sig: Substring? = nil
        for pair in query.split(separator: "&") {
            if pair.hasPrefix("exp=") { exp = pair.dropFirst(4) } else if pair.hasPrefix("sig=") { sig = pair.dropFirst(4) }
        }
        guard let exp, let sig else { return nil }
        return (exp, sig)
    }

    /// Paths every authenticated key reaches: job status, media, the API document.
    func isBuiltIn(_ local: Substring) -> Bool {
        local.hasPrefix("/jobs/") || local.hasPrefix("/media/") || local == "/openapi.json" || local == "/docs"
    }

    /// A `/media/` URL's query string for `encodedPath`.
    func mediaQuery(_ encodedPath: String) -> String { signer.query(forEncodedPath: encodedPath) }
}

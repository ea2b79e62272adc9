import Foundation
import Pixeltable

/// How a service verifies JSON Web Tokens: an HMAC secret (HS256) or a public key (RS256 or
/// ES256, read from a PEM file), and the issuer and audience tokens must name.
///
/// Every token must carry `exp`; `nbf`, when present, is checked too.
public struct JWTSettings: Sendable, Hashable, CustomStringConvertible {
    /// The HS256 secret.
    public var secret: String?
    /// A PEM file holding an RSA or P-256 public key (or a certificate), relative to the service
    /// file's directory.
    public var publicKeyFile: String?
    /// The PEM text itself, read from ``publicKeyFile`` or given directly.
    public var publicKeyPEM: String?
    /// The `iss` tokens must carry, when set.
    public var issuer: String?
    /// A value the token's `aud` must include, when set.
    public var audience: String?

    /// Settings for HS256 tokens signed with `secret`.
    public init(secret: String, issuer: String? = nil, audience: String? = nil) {
        self.secret = secret
        self.issuer = issuer
        self.audience = audience
    }

    /// Settings for RS256 or ES256 tokens checked against a PEM public key.
    public init(publicKeyPEM: String, issuer: String? = nil, audience: String? = nil) {
        self.publicKeyPEM = publicKeyPEM
        self.issuer = issuer
        self.audience = audience
    }

    /// Settings for RS256 or ES256 tokens checked against the public key in a PEM file (read
    /// when the router starts; relative to the directory the router is given).
    public init(publicKeyFile: String, issuer: String? = nil, audience: String? = nil) {
        self.publicKeyFile = publicKeyFile
        self.issuer = issuer
        self.audience = audience
    }

    /// Exactly one of a secret and a public key.
    public func validate() throws(PixeltableError) {
        let hasKey = publicKeyPEM != nil || publicKeyFile != nil
        if (secret != nil) == hasKey {
            throw PixeltableError(.invalidConfiguration, "jwt needs exactly one of secret (HS256) and public_key_file (RS256/ES256)")
        }
        if let s = secret, s.utf8.count < 32 {
            // RFC 7518 §3.2: an HS256 key must be at least as long as the hash (256 bits).
            throw PixeltableError(.invalidConfiguration, "jwt secret must be at least 32 bytes (RFC 7518 §3.2); got \(s.utf8.count)")
        }
    }

    /// The settings with the secret as `***`.
    public var description: String {
        "JWTSettings(\(secret != nil ? "secret: ***" : "publicKeyFile: \(publicKeyFile ?? "(PEM)")"), issuer: \(issuer ?? "nil"), audience: \(audience ?? "nil"))"
    }

    var json: JSONValue {
        var o = JSONObject()
        if secret != nil { o["secret"] = "***" }
        if let publicKeyFile { o["public_key_file"] = .string(publicKeyFile) }
        o["issuer"] = issuer.map { .string($0) } ?? .null
        o["audience"] = audience.map { .string($0) } ?? .null
        return .object(o)
    }
}

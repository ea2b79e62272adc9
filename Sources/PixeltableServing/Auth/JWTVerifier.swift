import Foundation
import JWTKit
import Pixeltable

/// Verifies JSON Web Tokens with jwt-kit: the signature (HS256 with a secret; RS256 or ES256
/// with a PEM public key, the algorithm fixed by the key so a token cannot pick another), then
/// `exp`, `nbf`, `iss` and `aud`.
final class JWTVerifier: Sendable {
    let keys: JWTKeyCollection
    let ready: Task<Void, Never>
    let issuer: String?
    let audience: String?

    /// - Parameter directory: Where a relative `publicKeyFile` is found.
    init(_ settings: JWTSettings, directory: String?) throws(PixeltableError) {
        try settings.validate()
        issuer = settings.issuer
        audience = settings.audience
        let collection = JWTKeyCollection()
        keys = collection
        if let secret = settings.secret {
            let key = HMACKey(from: secret)
            ready = Task { await collection.add(hmac: key, digestAlgorithm: .sha256) }
            return
        }
        let pem = try Self.pem(settings, directory: directory)
        if let ec = try? ES256PublicKey(pem: pem) {
            ready = Task { await collection.add(ecdsa: ec) }
        } else if let ec = try? ES256PublicKey(certificate: pem) {
            ready = Task { await collection.add(ecdsa: ec) }
        } else if let rsa = try? Insecure.RSA.PublicKey(pem: pem) {
            ready = Task { await collection.add(rsa: rsa, digestAlgorithm: .sha256) }
        } else {
            throw PixeltableError(.invalidConfiguration, "jwt public key \(settings.publicKeyFile ?? "(PEM)") is neither an RSA nor a P-256 public key in PEM form")
        }
    }

    static func pem(_ settings: JWTSettings, directory: String?) throws(PixeltableError) -> String {
        if let pem = settings.publicKeyPEM { return pem }
        guard var file = settings.publicKeyFile else { throw PixeltableError(.invalidConfiguration, "jwt needs secret or public_key_file") }
        if !file.hasPrefix("/"), let directory { file = directory + "/" + file }
        guard let data = FileManager.default.contents(atPath: file), let text = String(data: data, encoding: .utf8) else {
            throw PixeltableError(.invalidConfiguration, "cannot read jwt public_key_file \(file)")
        }
        return text
    }

    /// Why `token` is refused, or `nil` when it is good.
    func refusal(_ token: String, now: Date = Date()) async -> String? {
        await ready.value
        let claims: AccessClaims
        do {
            claims = try await keys.verify(token, as: AccessClaims.self)
        } catch {
            return "Invalid token: the signature or its encoding does not verify"
        }
        guard let exp = claims.exp else { return "Invalid token: it has no exp (expiry) claim" }
        if exp.value <= now { return "Token has expired" }
        if let nbf = claims.nbf, nbf.value > now { return "Token is not valid yet (nbf)" }
        if let issuer, claims.iss?.value != issuer { return "Invalid token: issuer is not '\(issuer)'" }
        if let audience, !(claims.aud?.value.contains(audience) ?? false) { return "Invalid token: audience does not include '\(audience)'" }
        return nil
    }
}

/// The claims a token is checked for; jwt-kit checks the signature, ``JWTVerifier`` the claims
/// (so that each refusal can say which claim failed).
struct AccessClaims: JWTPayload {
    var exp: ExpirationClaim?
    var nbf: NotBeforeClaim?
    var iss: IssuerClaim?
    var aud: AudienceClaim?

    func verify(using algorithm: some JWTAlgorithm) async throws {}
}

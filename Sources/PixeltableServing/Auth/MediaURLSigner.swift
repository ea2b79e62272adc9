import Crypto
import Foundation
import Pixeltable

/// Signs `/media/…` URLs so that a browser can load them without credentials: the query
/// `?exp=<unix seconds>&sig=<HMAC-SHA256 of exp and path, base64url>` proves the URL came from
/// a response of this service and says until when it may be used.
///
/// What is signed is the URL path exactly as it is sent (percent-encoded, after `/media/`), so a
/// signature for one file says nothing about another, and changing `exp` breaks it.
struct MediaURLSigner: Sendable {
    let key: SymmetricKey
    /// Seconds a URL stays valid.
    let lifetime: Int

    init(key: [UInt8], lifetime: Int) {
        self.key = SymmetricKey(data: key)
        self.lifetime = lifetime
    }

    /// The query that signs `encodedPath` (the part after `/media/`) until `lifetime` seconds
    /// after `now`, rounded up to the minute so that URLs of one minute are alike (cacheable).
    func query(forEncodedPath encodedPath: some StringProtocol, now: Date = Date()) -> String {
        let exp = (Int(now.timeIntervalSince1970) + lifetime + 59) / 60 * 60
        return "exp=\(exp)&sig=\(signature(encodedPath, exp: exp))"
    }

    func signature(_ encodedPath: some StringProtocol, exp: Int) -> String {
        let mac = HMAC<Crypto.SHA256>.authenticationCode(for: Array(message(encodedPath, exp: exp).utf8), using: key)
        return Base64URL.encode(Array(mac))
    }

    func message(_ encodedPath: some StringProtocol, exp: Int) -> String { "\(exp)\n\(encodedPath)" }

    /// Why a signed URL is refused, or `nil` when it is good: the signature is checked in
    /// constant time, then the expiry.
    func refusal(encodedPath: Substring, exp: Substring, sig: Substring, now: Date = Date()) -> String? {
        guard let e = Int(exp), let mac = Base64URL.decode(sig) else { return "media URL signature is malformed" }
        guard HMAC<Crypto.SHA256>.isValidAuthenticationCode(mac, authenticating: Array(message(encodedPath, exp: e).utf8), using: key) else {
            return "media URL signature is invalid"
        }
        if Int(now.timeIntervalSince1970) > e { return "media URL has expired" }
        return nil
    }

    /// The signing key kept in the home (`media-url.key`, 32 random bytes, mode 0600), created
    /// on first use; every server on the home signs with it, so their URLs work on each other.
    static func homeKey(_ home: HomeDirectory) throws(PixeltableError) -> [UInt8] {
        let path = home.path + "/media-url.key"
        for _ in 0..<2 {
            if let data = FileManager.default.contents(atPath: path), data.count == 32 { return Array(data) }
            // O_EXCL: of two servers starting together, one writes the key and the other reads it.
            let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
            if fd < 0 {
                if errno == EEXIST { usleep(50_000); continue }
                throw PixeltableError(.internalError, "cannot create the media URL key \(path): \(String(cString: strerror(errno)))")
            }
            let bytes = SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }
            let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            fsync(fd)
            close(fd)
            guard written == bytes.count else { throw PixeltableError(.internalError, "cannot write the media URL key \(path)") }
            return bytes
        }
        throw PixeltableError(.internalError, "the media URL key \(path) is not 32 bytes; delete it to make a new one")
    }
}

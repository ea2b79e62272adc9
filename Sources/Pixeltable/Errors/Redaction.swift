import Foundation

/// Hides credentials in text that is about to be printed: messages, logs, `pxt config`,
/// `--dry-run`.
public enum Redaction {
    /// `scheme://user:***@host/…`: the password of a URL's authority masked, everything else
    /// kept so that the URL can still be recognised; text that is not such a URL is returned
    /// as it is.
    ///
    /// ```swift
    /// Redaction.url("postgresql://app:s3cret@db/analytics")  // "postgresql://app:***@db/analytics"
    /// ```
    public static func url(_ text: String) -> String {
        guard let scheme = text.range(of: "://") else { return text }
        let authorityEnd = text[scheme.upperBound...].firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? text.endIndex
        let authority = text[scheme.upperBound..<authorityEnd]
        guard let at = authority.lastIndex(of: "@"), let colon = authority[..<at].firstIndex(of: ":") else { return text }
        return String(text[..<text.index(after: colon)]) + "***" + String(text[at...])
    }
}

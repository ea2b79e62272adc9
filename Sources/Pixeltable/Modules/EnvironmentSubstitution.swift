import Foundation

/// `${NAME}` and `${NAME:-default}` in the strings of a service file, replaced by environment
/// variables, so that a connection string's password can stay out of the file.
///
/// `$${` writes a literal `${`; a `$` not followed by `{` is left as it is. An unset variable
/// without a default is an error (an empty one is a value); so is a reference that is not
/// closed or whose name is not a shell variable name.
///
/// ```swift
/// let url = try EnvironmentSubstitution.apply("postgresql://app:${PG_PASSWORD}@db/analytics", ["PG_PASSWORD": "s3cret"])
/// ```
public enum EnvironmentSubstitution {
    /// What went wrong in a string, without where (the caller knows the file and line).
    public struct Failure: Error, Sendable {
        public let message: String
    }

    /// `text` with every reference replaced from `environment`.
    ///
    /// - Throws: ``Failure`` naming the unset variable or the malformed reference.
    public static func apply(_ text: String, _ environment: [String: String]) throws(Failure) -> String {
        guard text.contains("$") else { return text }
        let chars = Array(text.unicodeScalars)
        var out = String.UnicodeScalarView()
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if c == "$", i + 2 < chars.count, chars[i + 1] == "$", chars[i + 2] == "{" {
                out.append(contentsOf: "${".unicodeScalars)
                i += 3
                continue
            }
            guard c == "$", i + 1 < chars.count, chars[i + 1] == "{" else {
                out.append(c)
                i += 1
                continue
            }
            guard let close = chars[(i + 2)...].firstIndex(of: "}") else {
                throw Failure(message: "'${' without a closing '}'")
            }
            let inner = String(String.UnicodeScalarView(chars[(i + 2)..<close]))
            let name: String
            var fallback: String? = nil
            if let r = inner.range(of: ":-") {
                name = String(inner[..<r.lowerBound])
                fallback = String(inner[r.upperBound...])
            } else {
                name = inner
            }
            guard isName(name) else { throw Failure(message: "'${\(inner)}' does not name an environment variable") }
            guard let value = environment[name] ?? fallback else {
                throw Failure(message: "environment variable '\(name)' is not set (write ${\(name):-default} for a default)")
            }
            out.append(contentsOf: value.unicodeScalars)
            i = close + 1
        }
        return String(out)
    }

    /// A shell variable name: a letter or `_`, then letters, digits and `_`.
    static func isName(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, first == "_" || (first.isASCII && first.properties.isAlphabetic) else { return false }
        return s.unicodeScalars.allSatisfy { $0 == "_" || ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) }
    }
}

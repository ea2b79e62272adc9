/// Parses `application/x-www-form-urlencoded` query strings byte by byte (`+` is a space, `%XX`
/// an escaped byte); repeated names keep every value, blank values are kept.
public enum QueryString {
    /// The parameters in a request target such as `/lookup?id=7` (the raw, still-encoded path
    /// and query). Reading the target directly avoids `uri.query`, which parses the whole URI
    /// with `URLComponents` on every request.
    public static func parse(target: String) -> [String: [String]] {
        guard let q = target.utf8.firstIndex(of: UInt8(ascii: "?")) else { return [:] }
        return parse(target[target.utf8.index(after: q)...])
    }

    /// The parameters of `query` (the part after `?`).
    public static func parse(_ query: some StringProtocol) -> [String: [String]] {
        var out: [String: [String]] = [:]
        var bytes = Array(query.utf8)[...]
        while !bytes.isEmpty {
            let end = bytes.firstIndex(of: UInt8(ascii: "&")) ?? bytes.endIndex
            let pair = bytes[bytes.startIndex..<end]
            bytes = end < bytes.endIndex ? bytes[(end + 1)...] : bytes[bytes.endIndex...]
            if pair.isEmpty { continue }
            if let eq = pair.firstIndex(of: UInt8(ascii: "=")) {
                out[decode(pair[pair.startIndex..<eq]), default: []].append(decode(pair[(eq + 1)...]))
            } else {
                out[decode(pair), default: []].append("")
            }
        }
        return out
    }

    static func hex(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    /// Decodes one component.
    public static func decode(_ s: some Collection<UInt8>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(s.count)
        var i = s.startIndex
        while i != s.endIndex {
            let c = s[i]
            if c == UInt8(ascii: "+") {
                out.append(0x20)
            } else if c == UInt8(ascii: "%"), let a = s.index(i, offsetBy: 1, limitedBy: s.endIndex), a != s.endIndex,
                let b = s.index(a, offsetBy: 1, limitedBy: s.endIndex), b != s.endIndex, let h = hex(s[a]), let l = hex(s[b])
            {
                out.append(h << 4 | l)
                i = b
            } else {
                out.append(c)
            }
            i = s.index(after: i)
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// An RFC 4180 CSV reader over UTF-8 bytes that knows the line each record starts on.
///
/// A quoted empty field (`""`) is an empty string; an unquoted empty field is null.
struct CSVReader {
    struct Record {
        var fields: [String?]
        var line: Int
    }

    private let bytes: [UInt8]
    private var pos = 0
    private var line = 1

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
        // Skip a UTF-8 byte-order mark.
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { pos = 3 }
    }

    /// The next record, or `nil` at the end.
    mutating func next() throws(PixeltableError) -> Record? {
        // Skip blank lines between records.
        while pos < bytes.count, bytes[pos] == 0x0A || bytes[pos] == 0x0D {
            if bytes[pos] == 0x0A { line += 1 }
            pos += 1
        }
        guard pos < bytes.count else { return nil }
        let start = line
        var fields: [String?] = []
        var field: [UInt8] = []
        var quoted = false
        var inQuotes = false
        while pos < bytes.count {
            let c = bytes[pos]
            if inQuotes {
                if c == 0x22 {
                    if pos + 1 < bytes.count && bytes[pos + 1] == 0x22 {
                        field.append(0x22)
                        pos += 2
                        continue
                    }
                    inQuotes = false
                    pos += 1
                    continue
                }
                if c == 0x0A { line += 1 }
                field.append(c)
                pos += 1
                continue
            }
            switch c {
            case 0x22 where field.isEmpty && !quoted:
                inQuotes = true
                quoted = true
                pos += 1
            case 0x2C:
                fields.append(quoted || !field.isEmpty ? String(decoding: field, as: UTF8.self) : nil)
                field = []
                quoted = false
                pos += 1
            case 0x0D:
                pos += 1
            case 0x0A:
                pos += 1
                line += 1
                fields.append(quoted || !field.isEmpty ? String(decoding: field, as: UTF8.self) : nil)
                return Record(fields: fields, line: start)
            default:
                if quoted {
                    throw PixeltableError(.invalidDataFormat, "line \(line): unexpected character after a closing quote")
                }
                field.append(c)
                pos += 1
            }
        }
        if inQuotes { throw PixeltableError(.invalidDataFormat, "line \(start): unterminated quoted field") }
        fields.append(quoted || !field.isEmpty ? String(decoding: field, as: UTF8.self) : nil)
        return Record(fields: fields, line: start)
    }
}

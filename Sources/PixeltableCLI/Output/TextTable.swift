/// Column-aligned text, as Pixeltable's `print_aligned`: each column as wide as its widest cell
/// (header included), two spaces between columns, no trailing spaces, nothing at all without rows.
enum TextTable {
    /// The aligned text, without a final newline; empty when `rows` is empty.
    static func aligned(_ headers: [String], _ rows: [[String]], rightAlign: Set<Int> = [], leftAlignHeaders: Bool = false) -> String {
        guard !rows.isEmpty else { return "" }
        var widths = headers.map(displayWidth)
        for r in rows {
            for (i, cell) in r.enumerated() where i < widths.count { widths[i] = max(widths[i], displayWidth(cell)) }
        }
        func line(_ cells: [String], header: Bool) -> String {
            var parts: [String] = []
            for (i, cell) in cells.enumerated() {
                let pad = String(repeating: " ", count: max(0, widths[i] - displayWidth(cell)))
                parts.append(rightAlign.contains(i) && !(header && leftAlignHeaders) ? pad + cell : cell + pad)
            }
            var s = parts.joined(separator: "  ")
            while s.last == " " { s.removeLast() }
            return s
        }
        return ([line(headers, header: true)] + rows.map { line($0, header: false) }).joined(separator: "\n")
    }

    /// Terminal columns a string takes: wide East Asian characters count 2, combining marks 0.
    static func displayWidth(_ s: String) -> Int {
        var w = 0
        for u in s.unicodeScalars {
            switch u.value {
            case 0x0300...0x036F, 0x200B...0x200F, 0xFE00...0xFE0F: continue
            case 0x1100...0x115F, 0x2E80...0xA4CF, 0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE30...0xFE4F, 0xFF00...0xFF60, 0xFFE0...0xFFE6, 0x1F300...0x1FAFF, 0x20000...0x3FFFD:
                w += 2
            default:
                w += 1
            }
        }
        return w
    }
}

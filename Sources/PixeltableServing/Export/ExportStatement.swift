import Pixeltable

/// The SQL an exporter runs, for any number of rows at once: `INSERT … VALUES (…), (…)`, the
/// same with `ON CONFLICT (key) DO UPDATE` for `merge`, and a one-row `UPDATE` for `update`.
struct ExportStatement: Sendable {
    let method: SQLExporter.Method
    let target: any ExportTarget
    /// The table, quoted and qualified.
    let table: String
    /// The response fields written, in order.
    let columns: [String]
    /// The target's primary key (empty for `insert`).
    let key: [String]
    /// What each column's values are cast to (PostgreSQL), by column.
    let casts: [String: String?]
    /// The statement for one row, made once: what `update` always runs, and `insert`/`merge`
    /// when a request arrives alone.
    private(set) var oneRow = ""

    init(method: SQLExporter.Method, target: any ExportTarget, table: String, columns: [String], key: [String], casts: [String: String?]) {
        self.method = method
        self.target = target
        self.table = table
        self.columns = columns
        self.key = key
        self.casts = casts
        oneRow = sql(rows: 1)
    }

    /// Response fields in the order of one row's placeholders.
    var bindings: [String] {
        method == .update ? columns.filter { !key.contains($0) } + key : columns
    }

    /// The most rows one statement takes: SQLite binds at most 32,766 values, PostgreSQL 65,535.
    var maximumRows: Int { max(1, min(512, 30_000 / max(1, columns.count))) }

    /// `items` (each holding `rows(item)` rows whose keys are `keys(item)`) cut into groups
    /// that one statement each can write, in order: at most ``maximumRows`` rows; for `merge`, a
    /// new group wherever a key repeats (PostgreSQL refuses to update one row twice in one
    /// statement); for `update`, one item per group.
    func groups<T>(_ items: [T], rows: (T) -> Int, keys: (T) -> [[ExportValue]]) -> [[T]] {
        var out: [[T]] = []
        var current: [T] = []
        var count = 0
        var seen = Set<[ExportValue]>()
        for item in items {
            let n = rows(item)
            let itemKeys = method == .merge ? keys(item) : []
            let full = method == .update ? !current.isEmpty : count + n > maximumRows
            if !current.isEmpty && (full || itemKeys.contains(where: seen.contains)) {
                out.append(current)
                (current, count, seen) = ([], 0, [])
            }
            current.append(item)
            count += n
            seen.formUnion(itemKeys)
        }
        if !current.isEmpty { out.append(current) }
        return out
    }

    /// The statement for `rows` rows (`update`: one).
    func sql(rows: Int) -> String {
        if rows == 1, !oneRow.isEmpty { return oneRow }
        let q = { (n: String) in type(of: target).quote(n) }
        var index = 0
        let mark = { (column: String) -> String in
            index += 1
            return target.placeholder(index, cast: casts[column] ?? nil)
        }
        let rest = columns.filter { !key.contains($0) }
        if method == .update {
            let sets = rest.map { "\(q($0)) = \(mark($0))" }.joined(separator: ", ")
            let conditions = key.map { "\(q($0)) = \(mark($0))" }.joined(separator: " AND ")
            return "UPDATE \(table) SET \(sets) WHERE \(conditions)"
        }
        var values: [String] = []
        values.reserveCapacity(rows)
        for _ in 0..<rows { values.append("(" + columns.map(mark).joined(separator: ", ") + ")") }
        var sql = "INSERT INTO \(table) (\(columns.map(q).joined(separator: ", "))) VALUES " + values.joined(separator: ", ")
        if method == .merge {
            sql += " ON CONFLICT (\(key.map(q).joined(separator: ", "))) DO UPDATE SET " + rest.map { "\(q($0)) = excluded.\(q($0))" }.joined(separator: ", ")
        }
        return sql
    }
}

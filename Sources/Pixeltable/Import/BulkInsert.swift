import Foundation

/// The formats `pxt insert` reads.
public enum InputFormat: String, Sendable {
    /// One JSON object per line.
    case jsonl
    /// A JSON array of objects.
    case json
    /// Comma-separated values with a header row.
    case csv

    /// The format from an explicit name, a file extension, or the first non-blank byte.
    public static func detect(_ name: String?, fileName: String?, body: [UInt8]) throws(PixeltableError) -> InputFormat {
        if let name, !name.isEmpty {
            guard let f = InputFormat(rawValue: name.lowercased() == "ndjson" ? "jsonl" : name.lowercased()) else {
                throw PixeltableError(.invalidArgument, "unknown input format '\(name)'; expected jsonl, json or csv")
            }
            return f
        }
        if let fileName {
            let lower = fileName.lowercased()
            if lower.hasSuffix(".csv") { return .csv }
            if lower.hasSuffix(".jsonl") || lower.hasSuffix(".ndjson") { return .jsonl }
        }
        guard let first = body.first(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }) else { return .jsonl }
        if first == UInt8(ascii: "[") { return .json }
        if first == UInt8(ascii: "{") { return .jsonl }
        return .csv
    }
}

/// Loads a whole file of rows into a table as one insert: one table version, all rows or none.
///
/// Rows are parsed, validated and computed in chunks inside one write transaction, so memory
/// stays bounded for large inputs and a bad row anywhere leaves the table untouched. Errors
/// name the input line (or array element) and the column.
public enum BulkInsert {
    static let chunkSize = 4096

    /// Inserts the rows in `body`.
    ///
    /// - Parameters:
    ///   - baseDirectory: What relative media paths in the input are relative to (the caller's
    ///     working directory).
    ///   - progress: Called after each chunk with (rows done, rows total).
    @discardableResult
    public static func run(
        table: Table, body: [UInt8], format: InputFormat, baseDirectory: String? = nil, progress: @escaping @Sendable (Int, Int) -> Void = { _, _ in }
    ) async throws(PixeltableError) -> WriteResult {
        try await table.withSchemaRetry { snap in
            try table.requireTable(snap, "insert into")
            let w = RowWriter(snap: snap)
            if !snap.componentViews.isEmpty {
                // The rows' components are made by the ordinary insert, which keeps the views
                // in step; the file is read whole.
                var source = try RowSource(body: body, format: format, snap: snap)
                var all: [[String: Value]] = []
                while true {
                    let chunk = try source.nextChunk(chunkSize)
                    if chunk.isEmpty { break }
                    all += chunk.map(\.1)
                }
                let result = try await table.insert(all, lax: format == .csv, baseDirectory: baseDirectory)
                progress(result.rowCount, result.rowCount)
                return WriteResult(rowCount: result.rowCount, errorCount: result.errorCount, rows: [], version: result.version)
            }
            // Remote media are fetched before the transaction, which must not wait on a network.
            if let media = snap.media, snap.writableColumns.contains(where: \.type.isMedia) {
                var source = try RowSource(body: body, format: format, snap: snap)
                while true {
                    let chunk = try source.nextChunk(chunkSize)
                    if chunk.isEmpty { break }
                    await media.prefetch(chunk.map(\.1), columns: snap.writableColumns.filter(\.type.isMedia))
                }
            }
            // Columns that call a model or a remote API are computed before the transaction (it
            // would hold the writer for as long as they take); the rows wait in memory.
            var ahead: [[(String, RowContext)]]? = nil
            var aheadErrors = 0
            if w.callsSlowFunctions {
                var source = try RowSource(body: body, format: format, snap: snap)
                let total = source.estimatedCount
                var chunks: [[(String, RowContext)]] = []
                var done = 0
                while true {
                    let chunk = try source.nextChunk(chunkSize)
                    if chunk.isEmpty { break }
                    var rows = try prepareChunk(w, chunk, format: format, baseDirectory: baseDirectory)
                    do throws(PixeltableError) {
                        let n: Int
                        (rows, n) = try await w.computeAway(rows, rowOffset: done)
                        aheadErrors += n
                    } catch {
                        throw relabelComputed(error, chunk.map(\.0), offset: done)
                    }
                    chunks.append(Array(zip(chunk.map(\.0), rows)))
                    done += rows.count
                    progress(done, max(total, done))
                }
                ahead = chunks
            }
            let computed = ahead
            let computedErrors = aheadErrors
            let placements = MediaPlacementList()
            let outcome: (Int, Int, Int?)
            do {
            outcome = try await table.catalog.committer.write { db in
                placements.restart()
                var source = try RowSource(body: body, format: format, snap: snap)
                let total = source.estimatedCount
                let (current, nextRID) = try w.begin(db)
                let version = current + 1
                var rid = nextRID
                var done = 0
                var errors = computedErrors
                var seenKeys = Set<[Value]>()
                var nextAhead = 0
                while true {
                    let chunk: [(String, [String: Value])]
                    var rows: [RowContext]
                    if let computed {
                        guard nextAhead < computed.count else { break }
                        chunk = computed[nextAhead].map { ($0.0, [:]) }
                        rows = computed[nextAhead].map(\.1)
                        nextAhead += 1
                    } else {
                        chunk = try source.nextChunk(chunkSize)
                        if chunk.isEmpty { break }
                        rows = try prepareChunk(w, chunk, format: format, baseDirectory: baseDirectory)
                        do throws(PixeltableError) {
                            errors += try w.compute(&rows, rowOffset: done)
                        } catch {
                            // The message says "row N"; name the input line instead.
                            throw relabelComputed(error, chunk.map(\.0), offset: done)
                        }
                    }
                    rows = try w.placeMedia(rows, version: version, into: placements.next(w))
                    for (i, r) in rows.enumerated() {
                        if !snap.primaryKey.isEmpty {
                            let key = snap.primaryKey.map { r.value($0.id) }
                            let exists = try w.existingRowID(db, key: key) != nil
                            if !seenKeys.insert(key).inserted || exists {
                                throw PixeltableError(.constraintViolation, "\(chunk[i].0), column '\(w.keyColumnNames)': duplicate primary key \(w.keyText(key))")
                            }
                        }
                        try w.insert(db, r, rid: rid, version: version)
                        rid += 1
                    }
                    done += rows.count
                    if computed == nil { progress(done, max(total, done)) }
                }
                if done == 0 { return (0, 0, nil) }
                try w.finish(db, version: version, nextRID: rid, counts: VersionCounts(inserts: done, errors: errors))
                return (done, errors, version)
            }
            } catch {
                placements.finish(committed: nil)
                throw error
            }
            placements.finish(committed: outcome.2)
            let (count, errors, version) = outcome
            return WriteResult(rowCount: count, errorCount: errors, rows: [], version: version)
        }
    }

    /// Validates a chunk's rows, naming the input line of a bad one.
    static func prepareChunk(_ w: RowWriter, _ chunk: [(String, [String: Value])], format: InputFormat, baseDirectory: String?) throws(PixeltableError) -> [RowContext] {
        var rows: [RowContext] = []
        rows.reserveCapacity(chunk.count)
        for (label, values) in chunk {
            do throws(PixeltableError) {
                var prepared = try w.prepare([values], lax: format == .csv, baseDirectory: baseDirectory)
                rows.append(prepared.removeFirst())
            } catch {
                throw relabel(error, label)
            }
        }
        return rows
    }

    /// Rewrites "Table 't', column 'c', row 0: msg" as "line 12, column 'c': msg".
    static func relabel(_ e: PixeltableError, _ label: String) -> PixeltableError {
        var msg = e.message
        if let r = msg.range(of: ", row 0: ") {
            let head = msg[msg.startIndex..<r.lowerBound]
            var column = ""
            if let c = head.range(of: ", column ") { column = ", column " + head[c.upperBound...] }
            msg = label + column + ": " + msg[r.upperBound...]
        } else if let r = msg.range(of: ", row 0") {
            msg = label + msg[r.upperBound...]
        } else {
            msg = label + ": " + msg
        }
        return PixeltableError(e.code, msg)
    }

    static func relabelComputed(_ e: PixeltableError, _ labels: [String], offset: Int) -> PixeltableError {
        // compute() reports "row N" with N counted from `offset`.
        guard let r = e.message.range(of: ", row ") else { return e }
        let rest = e.message[r.upperBound...]
        let digits = rest.prefix { $0.isNumber }
        guard let n = Int(digits), n - offset >= 0, n - offset < labels.count else { return e }
        let head = e.message[e.message.startIndex..<r.lowerBound]
        var column = ""
        if let c = head.range(of: ", column ") { column = ", column " + head[c.upperBound...] }
        return PixeltableError(e.code, labels[n - offset] + column + rest.dropFirst(digits.count))
    }
}

/// Rows read from an input, each with a label naming where it came from (`line 12`).
struct RowSource {
    private var format: InputFormat
    private var bytes: [UInt8]
    private var pos = 0
    private var line = 0
    private var csv: CSVReader?
    private var header: [String] = []
    private var items: [JSONValue] = []
    private var itemIndex = 0
    let estimatedCount: Int

    init(body: [UInt8], format: InputFormat, snap: TableSnapshot) throws(PixeltableError) {
        self.format = format
        self.bytes = body
        switch format {
        case .jsonl:
            estimatedCount = body.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) } + (body.last == 0x0A || body.isEmpty ? 0 : 1)
        case .json:
            do {
                guard case .array(let a) = try JSONParser.parse(bytes: body) else {
                    throw PixeltableError(.invalidDataFormat, "the input must be a JSON array of objects")
                }
                items = a
            } catch let e as PixeltableError {
                throw e
            } catch {
                throw PixeltableError(.invalidDataFormat, "invalid JSON input: \(error)")
            }
            estimatedCount = items.count
        case .csv:
            var reader = CSVReader(body)
            guard let h = try reader.next() else {
                estimatedCount = 0
                csv = reader
                return
            }
            header = h.fields.map { $0 ?? "" }
            for name in header where snap.byName[name] == nil {
                throw PixeltableError(.columnNotFound, "line \(h.line): the header names unknown column '\(name)' of table '\(snap.path)'")
            }
            csv = reader
            estimatedCount = max(0, body.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) } - 1)
        }
    }

    mutating func nextChunk(_ n: Int) throws(PixeltableError) -> [(String, [String: Value])] {
        var out: [(String, [String: Value])] = []
        while out.count < n, let row = try nextRow() { out.append(row) }
        return out
    }

    private mutating func nextRow() throws(PixeltableError) -> (String, [String: Value])? {
        switch format {
        case .jsonl:
            while pos < bytes.count {
                line += 1
                let start = pos
                while pos < bytes.count && bytes[pos] != 0x0A { pos += 1 }
                var end = pos
                if pos < bytes.count { pos += 1 }
                if end > start && bytes[end - 1] == 0x0D { end -= 1 }
                let slice = Array(bytes[start..<end])
                if slice.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
                let label = "line \(line)"
                do {
                    guard case .object(let o) = try JSONParser.parse(bytes: slice) else {
                        throw PixeltableError(.invalidDataFormat, "\(label): expected a JSON object")
                    }
                    return (label, Self.row(o))
                } catch let e as PixeltableError {
                    throw e
                } catch {
                    throw PixeltableError(.invalidDataFormat, "\(label): invalid JSON: \(error)")
                }
            }
            return nil
        case .json:
            guard itemIndex < items.count else { return nil }
            let label = "row \(itemIndex) of the JSON array"
            defer { itemIndex += 1 }
            guard case .object(let o) = items[itemIndex] else {
                throw PixeltableError(.invalidDataFormat, "\(label): expected a JSON object")
            }
            return (label, Self.row(o))
        case .csv:
            guard var reader = csv, let rec = try reader.next() else { return nil }
            csv = reader
            let label = "line \(rec.line)"
            guard rec.fields.count == header.count else {
                throw PixeltableError(.invalidDataFormat, "\(label): expected \(header.count) fields, got \(rec.fields.count)")
            }
            var row: [String: Value] = [:]
            for (k, v) in zip(header, rec.fields) { row[k] = v.map { .string($0) } ?? .null }
            return (label, row)
        }
    }

    static func row(_ o: JSONObject) -> [String: Value] {
        var row: [String: Value] = [:]
        for (k, v) in o { row[k] = Value(json: v) }
        return row
    }
}

import Foundation
import Pixeltable

/// An answer to a route: a status and a JSON body, or a file.
struct RouteAnswer: Sendable {
    var status: Int
    var body: JSONValue
    /// For `return_fileresponse`: the local file to answer with instead of `body`.
    var file: String? = nil

    static func detail(_ status: Int, _ message: String) -> RouteAnswer {
        RouteAnswer(status: status, body: ["detail": .string(message)])
    }
}

/// Runs routes: decodes the request, performs the operation, builds the response from the
/// written or queried rows (no second query).
enum RouteExecutor {
    static let schemaChanged = "table schema changed since route was registered; please restart the service"

    /// Decodes the request's fields for `spec`.
    static func fields(_ spec: RouteSpec, body: [UInt8], query: [String: [String]], maxDepth: Int = 512) throws(ValidationFailure) -> [String: Value] {
        if spec.method == .get { return try RequestDecoder.decodeQuery(query, inputs: spec.inputs) }
        return try RequestDecoder.decodeJSON(body, inputs: spec.inputs, maxDepth: maxDepth)
    }

    /// Performs the operation; errors are answers (4xx/5xx), never thrown.
    ///
    /// - Parameter jobID: The background job this runs as: its write records the job's outcome
    ///   in the same transaction when the answer is known there (see ``jobWrite(_:_:links:)``).
    static func perform(_ spec: RouteSpec, _ fields: [String: Value], links: MediaLinks, jobID: String? = nil) async -> RouteAnswer {
        do {
            return try await operation(spec, fields, links: links, job: jobID.flatMap { jobWrite(spec, $0, links: links) })
        } catch let e as PixeltableError {
            return answer(for: e, spec)
        } catch {
            return .detail(500, "\(error)")
        }
    }

    static func answer(for e: PixeltableError, _ spec: RouteSpec) -> RouteAnswer {
        if spec.schemaVersion != nil && (e.code == .schemaMismatch || e.code == .tableNotFound) {
            return .detail(409, schemaChanged)
        }
        return RouteAnswer(status: e.httpStatus, body: ["detail": e.dictionary])
    }

    static func outputObject(_ row: ResultRow, _ spec: RouteSpec) -> JSONValue {
        var o = JSONObject()
        for out in spec.outputs { o[out.name] = (row[out.name] ?? .null).json }
        return .object(o)
    }

    /// The outcome a background job's write records with it: the response body of a route
    /// whose answer is a function of the written row. Closure routes (their handler runs after
    /// the write) and direct exports (which can still fail after the commit) record theirs
    /// afterwards.
    static func jobWrite(_ spec: RouteSpec, _ id: String, links: MediaLinks) -> JobOutcomeWrite? {
        guard spec.transform == nil, !spec.returnFileResponse, spec.exporter == nil || spec.exporter?.delivery == .outbox else { return nil }
        switch spec.kind {
        case .insert, .update:
            return JobOutcomeWrite(id: id) { rows, _ in rows.count == 1 ? outputObject(links.row(rows[0]), spec) : .null }
        case .delete:
            return JobOutcomeWrite(id: id) { _, count in ["num_rows": .int(Int64(count))] }
        case .query:
            return nil
        }
    }

    static func operation(_ spec: RouteSpec, _ fields: [String: Value], links: MediaLinks, job: JobOutcomeWrite? = nil) async throws -> RouteAnswer {
        switch spec.kind {
        case .insert(let table):
            var row: [String: Value] = [:]
            for i in spec.inputs { row[i.name] = fields[i.name] ?? .null }
            let r = try await table.insert([row], lax: spec.isMultipart, expectedSchemaVersion: spec.schemaVersion, outbox: outboxWrite(spec, links: links), job: job)
            guard r.rows.count == 1 else { return .detail(500, "operation returned unexpected row count (\(r.rows.count)), expected 1") }
            return try await finish(spec, r.rows[0], links: links)
        case .update(let table):
            var row: [String: Value] = [:]
            for i in spec.inputs { row[i.name] = fields[i.name] ?? .null }
            let r = try await table.batchUpdate([row], ifNotExists: .ignore, expectedSchemaVersion: spec.schemaVersion, outbox: outboxWrite(spec, links: links), job: job)
            if r.rows.isEmpty { return .detail(404, "row not found") }
            guard r.rows.count == 1 else { return .detail(500, "operation returned unexpected row count (\(r.rows.count)), expected 1") }
            return try await finish(spec, r.rows[0], links: links)
        case .delete(let table):
            var match: [String: Value] = [:]
            for i in spec.inputs { match[i.name] = fields[i.name] ?? .null }
            let r = try await table.delete(matching: match, expectedSchemaVersion: spec.schemaVersion, job: job)
            return RouteAnswer(status: 200, body: ["num_rows": .int(Int64(r.rowCount))])
        case .query(let q):
            let result = spec.oneRow || spec.returnFileResponse ? try q.runNow(fields) : try await q.run(fields)
            if spec.returnFileResponse {
                if let bad = oneRowFailure(result) { return bad }
                return await fileAnswer(spec, result.rows[0], links: links)
            }
            return queryAnswer(spec, result, links: links)
        }
    }

    /// What a closure route's handler receives: the output columns, media as URL strings (as
    /// Pixeltable's decorators pass them).
    static func handlerRow(_ spec: RouteSpec, _ row: ResultRow, links: MediaLinks) -> ResultRow {
        if spec.outputs.isEmpty { return links.row(row) }
        let names = spec.outputs.map(\.name)
        return links.row(ResultRow(columns: names, values: names.map { row[$0] ?? .null }))
    }

    /// For a route exporting through the outbox, the entry its write records in the same
    /// transaction: the response body, or for a closure route the row its handler receives
    /// (the worker runs the handler on it; see `ServiceRouter.outboxRoute`).
    static func outboxWrite(_ spec: RouteSpec, links: MediaLinks) -> OutboxWrite? {
        guard let service = spec.outbox?.records.service else { return nil }
        if spec.transform != nil {
            return OutboxWrite(service: service, route: spec.path) { row in handlerRow(spec, row, links: links).json }
        }
        return OutboxWrite(service: service, route: spec.path) { row in outputObject(links.row(row), spec) }
    }

    static func finish(_ spec: RouteSpec, _ row: ResultRow, links: MediaLinks) async throws -> RouteAnswer {
        if spec.returnFileResponse { return await fileAnswer(spec, row, links: links) }
        let body: JSONValue
        if let transform = spec.transform {
            body = try await transform(handlerRow(spec, row, links: links))
        } else {
            body = outputObject(links.row(row), spec)
        }
        if let exporter = spec.exporter, exporter.delivery == .outbox {
            // Recorded with the write; the worker delivers it.
            spec.outbox?.notify()
        } else if let exporter = spec.exporter {
            // The exported row is the response body; the Pixeltable write has committed, and
            // stays whatever happens here.
            do throws(SQLExporter.Failure) {
                try await exporter.export(body)
            } catch {
                ExportLog.failed(exporter, route: spec.path, error.cause)
                return .detail(500, error.detail)
            }
        }
        return RouteAnswer(status: 200, body: body)
    }

    /// The file of the route's single media output (reference §1.8): 500 when the value is
    /// null or names no file; a remote file is fetched first.
    static func fileAnswer(_ spec: RouteSpec, _ row: ResultRow, links: MediaLinks) async -> RouteAnswer {
        let name = spec.outputs.first?.name ?? ""
        guard let v = row[name] ?? row.values.first, !v.isNull, let text = v.stringValue else {
            return .detail(500, "output column '\(name)' is null")
        }
        guard let ref = try? MediaReference(parsing: text), let path = try? await links.store.localFile(ref) else {
            return .detail(500, "output file not found: '\(name)'")
        }
        guard FileInfo.of(path: path)?.isRegular == true else { return .detail(500, "output file not found: '\(name)'") }
        return RouteAnswer(status: 200, body: .null, file: path)
    }

    /// 404 for no row, 409 for several: the `one_row` rules.
    static func oneRowFailure(_ result: QueryResult) -> RouteAnswer? {
        if result.rows.isEmpty { return .detail(404, "query returned no rows") }
        if result.rows.count > 1 {
            return .detail(409, "Query returned \(result.rows.count) rows; expected exactly 1 for one_row=True. Change the query to return exactly one row.")
        }
        return nil
    }

    static func queryAnswer(_ spec: RouteSpec, _ result: QueryResult, links: MediaLinks) -> RouteAnswer {
        if spec.oneRow {
            if let bad = oneRowFailure(result) { return bad }
            let row = links.row(result.rows[0])
            return RouteAnswer(status: 200, body: spec.returnScalar ? row.values[0].json : row.json)
        }
        if spec.returnScalar { return RouteAnswer(status: 200, body: .array(result.rows.map { links.value($0.values[0]).json })) }
        return RouteAnswer(status: 200, body: ["rows": .array(result.rows.map { links.row($0).json })])
    }

    /// The error text of a failed background job, as Starlette's `str(HTTPException)` reads:
    /// `404: row not found`.
    static func jobError(_ a: RouteAnswer) -> String {
        guard let detail = a.body["detail"] else { return "\(a.status)" }
        if case .string(let s) = detail { return "\(a.status): \(s)" }
        return "\(a.status): \(detail.pythonRepr)"
    }
}

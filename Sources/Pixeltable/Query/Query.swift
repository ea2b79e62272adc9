/// A query over a table or view, built step by step and run with ``collect()``.
///
/// ```swift
/// let rows = try await films.query()
///     .where("year >= 1980")
///     .select(["title", "title.upper() as shout"])
///     .orderBy(["year desc"])
///     .limit(10)
///     .collect()
/// ```
public struct Query: Sendable {
    let table: Table
    var items: [String] = []
    var filters: [String] = []
    var order: [String] = []
    var limitCount: Int? = nil
    var version: Int? = nil

    /// Keeps only the rows where `expression` is true; several calls are AND-ed.
    public func `where`(_ expression: String) -> Query {
        var q = self
        q.filters.append(expression)
        return q
    }

    /// The select list: expressions, each optionally `as name`.
    public func select(_ items: [String]) -> Query {
        var q = self
        q.items = items
        return q
    }

    /// Sort keys: expressions, each optionally followed by `asc` or `desc`.
    public func orderBy(_ keys: [String]) -> Query {
        var q = self
        q.order = keys
        return q
    }

    /// At most `n` rows.
    public func limit(_ n: Int) -> Query {
        var q = self
        q.limitCount = n
        return q
    }

    /// Reads the table as it was at `version`.
    public func asOf(version: Int) -> Query {
        var q = self
        q.version = version
        return q
    }

    /// Runs the query.
    public func collect() async throws(PixeltableError) -> QueryResult {
        let q = self
        return try await table.catalog.read { db, s in
            let snap = try q.table.snapshot(s)
            var plan = try q.plan(snap, db: db)
            if let v = q.version {
                plan.snapshot = try TableHistory.snapshot(db, snap, asOf: v, functions: q.table.catalog.functions)
                plan = try q.plan(plan.snapshot, db: db, asOf: v)
            }
            return try QueryExecutor.run(db, plan, vectors: q.table.catalog.vectorIndexes)
        }
    }

    func plan(_ snap: TableSnapshot, db: Database, asOf: Int? = nil) throws(PixeltableError) -> QueryPlan {
        var plan = QueryPlan(snapshot: snap, asOfVersion: asOf)
        for f in filters {
            let (typed, _) = try snap.bind(f)
            guard typed.type.kind == .bool || typed.type.kind == .json else {
                throw PixeltableError(.typeMismatch, "where clause '\(f)' must be a Bool expression, not \(typed.type.baseDescription)")
            }
            plan.filters.append(typed)
        }
        plan.select = items.isEmpty ? QueryExecutor.defaultSelect(snap) : try SelectList.bind(items, snap, parameters: nil)
        for o in order {
            let (syntax, asc): (Syntax, Bool)
            do { (syntax, asc) = try ExpressionParser.parseOrderItem(o) } catch { throw error.pixeltableError }
            // An order key may name a select item by its alias.
            if case .name(let n) = syntax.kind, let item = plan.select.first(where: { $0.0 == n }), snap.byName[n] == nil {
                plan.orderBy.append((item.1, asc))
                continue
            }
            do {
                let (typed, _) = try ExpressionBinder(scope: snap.scope, source: o).bind(syntax)
                plan.orderBy.append((typed, asc))
            } catch {
                throw error.pixeltableError
            }
        }
        plan.limit = limitCount
        return plan
    }
}

import GRDB

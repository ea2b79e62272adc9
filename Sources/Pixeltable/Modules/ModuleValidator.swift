/// The catalog as a module file declares it, built in memory to type-check every expression and
/// query before anything is applied.
struct VirtualCatalog {
    var snapshots: [CatalogPath: TableSnapshot] = [:]
    var viewFilters: [CatalogPath: String] = [:]

    func viewFilter(_ v: ModuleFile.ViewDecl) throws(PixeltableError) -> (String?, Void) {
        (viewFilters[v.path], ())
    }
}

extension ModuleFile {
    /// Type-checks the whole file against the declarations and the existing catalog, reporting
    /// the first error with its file, line and column.
    func validate(_ state: CatalogState, functions: FunctionRegistry, context: FunctionContext? = nil) throws(PixeltableError) -> VirtualCatalog {
        var v = VirtualCatalog()
        var declared = Set<CatalogPath>()
        for t in tables {
            guard declared.insert(t.path).inserted else {
                throw PixeltableError(.invalidConfiguration, "\(t.location): '\(t.path)' is declared twice")
            }
            v.snapshots[t.path] = try virtualTable(t, functions: functions, context: context)
        }
        for view in views {
            guard declared.insert(view.path).inserted else {
                throw PixeltableError(.invalidConfiguration, "\(view.location): '\(view.path)' is declared twice")
            }
            let base: TableSnapshot
            if let b = v.snapshots[view.base] {
                base = b
            } else if case .table(let b) = state.entry(view.base) {
                base = b
            } else {
                throw PixeltableError(.invalidConfiguration, "\(view.location): view '\(view.path)': base '\(view.base)' is neither declared before it nor in the catalog")
            }
            if let it = view.iterator {
                v.snapshots[view.path] = try virtualComponentView(view, iterator: it, base: base, functions: functions, context: context)
                continue
            }
            var filters = base.filters
            var display: String? = nil
            if let f = view.filter {
                let typed: TypedExpr
                let stored: Syntax
                do {
                    (typed, stored) = try ExpressionBinder(scope: base.scope, source: f.text).bind(try ExpressionParser.parse(f.text))
                } catch {
                    throw f.error(error, "view '\(view.path)' where")
                }
                guard typed.type.kind == .bool || typed.type.kind == .json else {
                    throw PixeltableError(.typeMismatch, "\(f.location): view '\(view.path)' where: '\(f.text)' must be a Bool expression, not \(typed.type.baseDescription)")
                }
                filters.append(typed)
                display = SyntaxCoding.display(stored) { base.byID[$0]?.name ?? "#\($0)" }
            }
            v.viewFilters[view.path] = display
            v.snapshots[view.path] = TableSnapshot(
                id: "virtual:\(view.path)", path: view.path, kind: .view, baseID: base.id, schemaVersion: 0, createdAt: 0, schema: TableSchema(),
                storageID: base.storageID, storageSchema: base.storageSchema, storageSchemaVersion: base.storageSchemaVersion, filters: filters,
                ownFilterSyntax: nil, functions: functions)
        }
        for q in queries {
            let snap: TableSnapshot
            if let s = v.snapshots[q.table] {
                snap = s
            } else if case .table(let s) = state.entry(q.table) {
                snap = s
            } else {
                throw PixeltableError(.invalidConfiguration, "\(q.location): query '\(q.name)': table '\(q.table)' is neither declared in the file nor in the catalog")
            }
            _ = try CompiledQuery.makePlan(q, snap)
        }
        return v
    }

    /// A table as declared, with its computed columns bound in order.
    func virtualTable(_ t: TableDecl, functions: FunctionRegistry, context: FunctionContext?) throws(PixeltableError) -> TableSnapshot {
        var names = Set<String>()
        for c in t.columns where !names.insert(c.name).inserted {
            throw PixeltableError(.invalidConfiguration, "\(c.location): duplicate column '\(c.name)' in table '\(t.path)'")
        }
        for c in t.computed where !names.insert(c.name).inserted {
            throw PixeltableError(.invalidConfiguration, "\(c.location): computed column '\(c.name)' of table '\(t.path)' has the name of another column")
        }
        for k in t.primaryKey {
            guard let c = t.columns.first(where: { $0.name == k }) else {
                let computed = t.computed.contains { $0.name == k }
                throw PixeltableError(
                    .invalidConfiguration,
                    "\(t.location): primary key column '\(k)' of table '\(t.path)' \(computed ? "is a computed column" : "is not declared in [table.columns]")")
            }
            do { try Catalog.checkPrimaryKeyType(c.type, name: k, path: t.path) } catch { throw PixeltableError(.invalidConfiguration, "\(c.location): \(error.message)") }
        }
        var scopeColumns: [ExpressionScope.Column] = []
        var id = 0
        for c in t.columns {
            scopeColumns.append(.init(id: id, name: c.name, type: columnType(t, c), isComputed: false))
            id += 1
        }
        for c in t.computed {
            let scope = ExpressionScope(columns: scopeColumns, functions: functions)
            let typed: TypedExpr
            do {
                typed = try ExpressionBinder(scope: scope, source: c.expression.text).bind(try ExpressionParser.parse(c.expression.text)).0
            } catch {
                throw c.expression.error(error, "table '\(t.path)' computed column '\(c.name)'")
            }
            if let declared = c.type, !(declared.accepts(typed.type.required) || declared.kind == typed.type.kind) {
                throw PixeltableError(.typeMismatch, "\(c.location): computed column '\(c.name)' of table '\(t.path)' is declared \(declared.baseDescription) but its expression is \(typed.type.baseDescription)")
            }
            if !c.stored && !typed.isDeterministic {
                throw PixeltableError(.invalidConfiguration, "\(c.location): unstored computed column '\(c.name)' must be deterministic")
            }
            scopeColumns.append(.init(id: id, name: c.name, type: c.type ?? typed.type.optional, isComputed: true))
            id += 1
        }
        var specs = t.columns.map { ColumnSpec($0.name, $0.type, comment: $0.comment) }
        for c in t.computed {
            var s = ColumnSpec.computed(c.name, c.expression.text, stored: c.stored, onError: c.onError, comment: c.comment)
            s.type = c.type
            specs.append(s)
        }
        var schema: TableSchema
        do {
            schema = try Catalog.buildSchema(columns: specs, primaryKey: t.primaryKey, comment: t.comment, functions: functions, path: t.path, checkContext: context)
        } catch {
            throw PixeltableError(error.code, "\(t.location): \(error.message)")
        }
        for i in t.indexes {
            guard let c = schema.column(named: i.column) else {
                throw PixeltableError(.invalidConfiguration, "\(i.location): index on unknown column '\(i.column)' of table '\(t.path)'")
            }
            switch c.type.kind {
            case .json, .array, .binary:
                throw PixeltableError(.invalidConfiguration, "\(i.location): cannot create a B-tree index on column '\(i.column)' of type \(c.type.baseDescription)")
            default: break
            }
            if !c.stored { throw PixeltableError(.invalidConfiguration, "\(i.location): cannot index unstored computed column '\(i.column)'") }
        }
        try addEmbeddingIndexes(t.embeddingIndexes, to: &schema, path: t.path, kind: "table", functions: functions, context: context)
        return TableSnapshot(
            id: "virtual:\(t.path)", path: t.path, kind: .table, baseID: nil, schemaVersion: 0, createdAt: 0, schema: schema, storageID: "virtual",
            storageSchema: schema, storageSchemaVersion: 0, filters: [], ownFilterSyntax: nil, functions: functions)
    }

    /// A component view as declared: the iterator's columns, then its computed columns and
    /// embedding indexes, checked in order.
    func virtualComponentView(
        _ view: ViewDecl, iterator: SourceExpression, base: TableSnapshot, functions: FunctionRegistry, context: FunctionContext?
    ) throws(PixeltableError) -> TableSnapshot {
        var schema: TableSchema
        do {
            let (call, made) = try IteratorCall.parse(iterator.text, base: base)
            schema = try Catalog.componentSchema(base: base, call: call, iterator: made, baseVersion: 0, comment: view.comment)
        } catch {
            throw PixeltableError(.invalidConfiguration, "\(iterator.location): view '\(view.path)' iterator: \(error.message)")
        }
        var nextID = (schema.columns.map(\.id).max() ?? -1) + 1
        for c in view.computed {
            guard schema.column(named: c.name) == nil else {
                throw PixeltableError(.invalidConfiguration, "\(c.location): computed column '\(c.name)' of view '\(view.path)' has the name of another column")
            }
            var spec = ColumnSpec.computed(c.name, c.expression.text, stored: c.stored, onError: c.onError, comment: c.comment)
            spec.type = c.type
            do {
                schema.columns.append(
                    try Catalog.compileComputed(spec, id: nextID, schema: schema, functions: functions, path: view.path, version: 0, checkContext: context))
            } catch {
                throw PixeltableError(error.code, "\(c.location): view '\(view.path)' computed column '\(c.name)': \(error.message)")
            }
            nextID += 1
        }
        try addEmbeddingIndexes(view.embeddingIndexes, to: &schema, path: view.path, kind: "view", functions: functions, context: context)
        return TableSnapshot(
            id: "virtual:\(view.path)", path: view.path, kind: .view, baseID: base.id, schemaVersion: 0, createdAt: 0, schema: schema,
            storageID: "virtual", storageSchema: schema, storageSchemaVersion: 0, filters: [], ownFilterSyntax: nil, functions: functions)
    }

    /// Checks declared embedding indexes and adds them, with their hidden vector columns.
    func addEmbeddingIndexes(
        _ list: [EmbeddingIndexDecl], to schema: inout TableSchema, path: CatalogPath, kind: String, functions: FunctionRegistry, context: FunctionContext?
    ) throws(PixeltableError) {
        var nextID = (schema.columns.map(\.id).max() ?? -1) + 1
        for i in list {
            guard schema.column(named: i.column) != nil else {
                throw PixeltableError(.invalidConfiguration, "\(i.location): embedding index on unknown column '\(i.column)' of \(kind) '\(path)'")
            }
            let name = i.name ?? "\(i.column)_embedding"
            do throws(PixeltableError) {
                let call = try Table.embeddingCall(i.embedding, column: i.column)
                var rec = try Catalog.compileComputed(
                    .computed("_emb_\(name)", call, onError: .ignore), id: nextID, schema: schema, functions: functions, path: path, version: 0, checkContext: context)
                guard rec.type.kind == .array else {
                    throw PixeltableError(.invalidType, "embedding '\(i.embedding)' does not produce an array")
                }
                rec.isHidden = true
                schema.columns.append(rec)
                schema.indexes.append(IndexRecord(name: name, columnID: schema.column(named: i.column)!.id, kind: .embedding, metric: i.metric, embedding: i.embedding, vectorColumnID: nextID))
                nextID += 1
            } catch {
                throw PixeltableError(.invalidConfiguration, "\(i.location): embedding index '\(name)' of \(kind) '\(path)': \(error.message)")
            }
        }
    }
}

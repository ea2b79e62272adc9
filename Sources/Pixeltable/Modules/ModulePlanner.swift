extension ModuleFile {
    /// Compares the file with the catalog: what `update` would do. Every expression and query is
    /// type-checked first, so a typo fails here with its file, line and column.
    public func plan(_ catalog: Catalog) async throws(PixeltableError) -> SchemaPlan {
        let state = try await catalog.currentState()
        let virtual = try validate(state, functions: catalog.functions, context: catalog.functionContext)
        var entries: [SchemaPlan.Entry] = []
        var steps: [SchemaPlan.Step] = []

        var declaredDirs: [CatalogPath] = directories.map(\.path)
        for t in tables where !t.path.parent.isRoot { declaredDirs.append(t.path.parent) }
        for v in views where !v.path.parent.isRoot { declaredDirs.append(v.path.parent) }
        var seenDirs = Set<CatalogPath>()
        for d in declaredDirs {
            // Parents first, so `a/b` can be declared without `a`.
            for depth in 1...max(1, d.components.count) where depth <= d.components.count {
                let p = CatalogPath(components: Array(d.components.prefix(depth)))
                guard seenDirs.insert(p).inserted else { continue }
                switch state.entry(p) {
                case .directory: continue
                case .table:
                    throw PixeltableError(.invalidConfiguration, "\(path): '\(p)' is a table in the catalog, but the file needs a directory there")
                case nil:
                    entries.append(SchemaPlan.Entry(path: p, kind: "dir", action: "create", changes: [.init(op: "create", target: "dir \(p)", isDestructive: false)]))
                    steps.append(.createDirectory(p))
                }
            }
        }

        var rebuiltViews = Set<CatalogPath>()
        for t in tables {
            switch state.entry(t.path) {
            case nil:
                var changes = [SchemaPlan.Change(op: "create", target: "table \(t.path)", isDestructive: false)]
                changes += t.columns.map { .init(op: "add", target: "column \($0.name)", detail: columnType(t, $0).description, isDestructive: false) }
                changes += t.computed.map { .init(op: "add", target: "computed column \($0.name)", detail: $0.expression.text, isDestructive: false) }
                changes += t.indexes.map { .init(op: "add", target: "index \($0.name ?? "idx_\($0.column)")", detail: $0.column, isDestructive: false) }
                changes += t.embeddingIndexes.map { .init(op: "add", target: "embedding index \($0.name ?? "\($0.column)_embedding")", detail: $0.embedding, isDestructive: false) }
                entries.append(SchemaPlan.Entry(path: t.path, kind: "table", action: "create", changes: changes))
                steps.append(.createTable(t))
            case .directory:
                throw PixeltableError(.invalidConfiguration, "\(t.location): '\(t.path)' is a directory in the catalog, not a table")
            case .table(let s):
                let (changes, tableSteps, droppedIDs) = try diffTable(t, s)
                entries.append(SchemaPlan.Entry(path: t.path, kind: "table", action: changes.isEmpty ? "none" : "alter", changes: changes))
                // A column cannot be dropped while a view filters on it: such views are dropped
                // first and created again below, when the file declares them.
                for v in state.allDependentViews(of: s.id) where v.ownFilterSyntax.map({ !SyntaxCoding.columnIDs($0).isDisjoint(with: droppedIDs) }) ?? false {
                    guard views.contains(where: { $0.path == v.path }), state.views(of: v.id).isEmpty else {
                        throw PixeltableError(
                            .schemaMismatch,
                            "\(t.location): the change of '\(t.path)' drops a column that view '\(v.path)' filters on; drop the view first, or declare it in the file")
                    }
                    rebuiltViews.insert(v.path)
                    steps.append(.dropView(v.path))
                }
                steps += tableSteps
            }
        }

        for v in views {
            if v.iterator != nil {
                let (entry, viewSteps) = try componentViewPlan(v, state: state, rebuilt: rebuiltViews.contains(v.path))
                entries.append(entry)
                steps += viewSteps
                continue
            }
            let (filterDisplay, _) = try virtual.viewFilter(v)
            switch state.entry(v.path) {
            case nil:
                entries.append(SchemaPlan.Entry(path: v.path, kind: "view", action: "create", changes: [.init(op: "create", target: "view \(v.path)", detail: v.filter?.text, isDestructive: false)]))
                steps.append(.createView(v))
            case .directory:
                throw PixeltableError(.invalidConfiguration, "\(v.location): '\(v.path)' is a directory in the catalog, not a view")
            case .table(let s):
                guard s.kind == .view else {
                    throw PixeltableError(.schemaMismatch, "\(v.location): No schema update can reconcile '\(v.path)': the catalog holds a table there and the file declares a view; adjust it manually.")
                }
                if rebuiltViews.contains(v.path) {
                    entries.append(SchemaPlan.Entry(path: v.path, kind: "view", action: "replace", changes: [.init(op: "replace", target: "view \(v.path)", detail: v.filter?.text, isDestructive: false)]))
                    steps.append(.createView(v))
                    continue
                }
                let currentBase = s.baseID.flatMap { state.tables[$0]?.path }
                let currentFilter = s.ownFilterSyntax.map { SyntaxCoding.display($0) { s.byID[$0]?.name ?? "#\($0)" } }
                if currentBase != v.base || currentFilter != filterDisplay || (s.schema.comment ?? "") != (v.comment ?? "") {
                    if !state.views(of: s.id).isEmpty {
                        throw PixeltableError(.schemaMismatch, "\(v.location): view '\(v.path)' changed, but other views depend on it; drop them first")
                    }
                    entries.append(SchemaPlan.Entry(path: v.path, kind: "view", action: "replace", changes: [.init(op: "replace", target: "view \(v.path)", detail: v.filter?.text, isDestructive: false)]))
                    steps += [.dropView(v.path), .createView(v)]
                } else {
                    entries.append(SchemaPlan.Entry(path: v.path, kind: "view", action: "none", changes: []))
                }
            }
        }

        let declared = Set(tables.map(\.path) + views.map(\.path))
        let scopes = Set(directories.map(\.path))
        let extras = state.tables.values.map(\.path).filter { p in !declared.contains(p) && scopes.contains { $0.contains(p) } }.sorted()
        return SchemaPlan(file: path, entries: entries, extras: extras, steps: steps)
    }

    func columnType(_ t: TableDecl, _ c: ColumnDecl) -> ColumnType {
        t.primaryKey.contains(c.name) ? c.type.required : c.type
    }

    /// The changes that bring an existing table in line with its declaration.
    ///
    /// - Returns: The changes, the steps, and the ids of the columns the steps drop.
    func diffTable(_ t: TableDecl, _ s: TableSnapshot) throws(PixeltableError) -> ([SchemaPlan.Change], [SchemaPlan.Step], Set<Int>) {
        guard s.kind == .table else {
            throw PixeltableError(.schemaMismatch, "\(t.location): No schema update can reconcile '\(t.path)': the catalog holds a view there and the file declares a table; adjust it manually.")
        }
        let currentPK = s.primaryKey.map(\.name)
        if currentPK != t.primaryKey {
            throw PixeltableError(
                .schemaMismatch,
                "\(t.location): No schema update can reconcile '\(t.path)': its primary key is [\(currentPK.joined(separator: ", "))] in the catalog and [\(t.primaryKey.joined(separator: ", "))] in the file; adjust the table manually.")
        }
        var changes: [SchemaPlan.Change] = []
        // Drops carry the column id: they run newest column first, so that no column is dropped
        // while a computed column (always newer than the columns it uses) still uses it.
        var drops: [(id: Int, step: SchemaPlan.Step)] = []
        var adds: [SchemaPlan.Step] = []
        var alters: [SchemaPlan.Step] = []
        let declaredNames = Set(t.columns.map(\.name) + t.computed.map(\.name))

        // Columns the file no longer declares.
        let removed = s.columns.filter { !declaredNames.contains($0.name) }.sorted { a, b in a.isComputed && !b.isComputed || (a.isComputed == b.isComputed && a.id > b.id) }
        for c in removed {
            changes.append(.init(op: "drop", target: "\(c.isComputed ? "computed column" : "column") \(c.name)", isDestructive: true))
            drops.append((c.id, .dropColumn(t.path, c.name)))
        }
        var dropped = Set(removed.map(\.id))
        func computedChanged(_ c: ComputedDecl, _ cur: ColumnInfo) -> Bool {
            let sameType = c.type.map { $0.optional == cur.type } ?? true
            return !cur.isComputed || s.displayExpression(cur) != normalized(c.expression.text, in: s) || cur.record.stored != c.stored
                || cur.record.onError != c.onError || !sameType
        }
        for c in t.columns {
            if let cur = s.byName[c.name], cur.isComputed || cur.type != columnType(t, c) { dropped.insert(cur.id) }
        }
        for c in t.computed {
            if let cur = s.byName[c.name], computedChanged(c, cur) { dropped.insert(cur.id) }
        }
        // Declared computed columns that use a dropped column are dropped and added again
        // (recomputed) too; ascending ids reach dependents after what they depend on.
        var recomputed = Set<String>()
        for cur in s.columns.sorted(by: { $0.id < $1.id }) where cur.isComputed && !dropped.contains(cur.id) {
            guard let ids = cur.expr?.columnIDs, !ids.isDisjoint(with: dropped), t.computed.contains(where: { $0.name == cur.name }) else { continue }
            dropped.insert(cur.id)
            recomputed.insert(cur.name)
        }
        var replacedStored: [ColumnDecl] = []
        for c in t.columns {
            let type = columnType(t, c)
            guard let cur = s.byName[c.name] else {
                changes.append(.init(op: "add", target: "column \(c.name)", detail: type.description, isDestructive: false))
                adds.append(.addColumn(t.path, c))
                continue
            }
            if cur.isComputed || cur.type != type {
                changes.append(.init(op: "replace", target: "column \(c.name)", detail: "\(cur.isComputed ? "computed" : cur.type.description) -> \(type.description)", isDestructive: true))
                drops.append((cur.id, .dropColumn(t.path, c.name)))
                replacedStored.append(c)
            } else if (cur.record.comment ?? "") != (c.comment ?? "") {
                changes.append(.init(op: "alter", target: "column \(c.name)", detail: "comment", isDestructive: false))
                alters.append(.setColumnComment(t.path, c.name, c.comment))
            }
        }
        adds += replacedStored.map { .addColumn(t.path, $0) }
        for c in t.computed {
            guard let cur = s.byName[c.name] else {
                changes.append(.init(op: "add", target: "computed column \(c.name)", detail: c.expression.text, isDestructive: false))
                adds.append(.addComputed(t.path, c))
                continue
            }
            if computedChanged(c, cur) {
                let was = cur.isComputed ? (s.displayExpression(cur) ?? "?") : "stored \(cur.type.description)"
                changes.append(.init(op: "replace", target: "computed column \(c.name)", detail: "\(was) -> \(c.expression.text)", isDestructive: true))
                drops.append((cur.id, .dropColumn(t.path, c.name)))
                adds.append(.addComputed(t.path, c))
            } else if recomputed.contains(c.name) {
                changes.append(.init(op: "replace", target: "computed column \(c.name)", detail: "recomputed: it uses a column that changes", isDestructive: true))
                drops.append((cur.id, .dropColumn(t.path, c.name)))
                adds.append(.addComputed(t.path, c))
            } else if (cur.record.comment ?? "") != (c.comment ?? "") {
                changes.append(.init(op: "alter", target: "computed column \(c.name)", detail: "comment", isDestructive: false))
                alters.append(.setColumnComment(t.path, c.name, c.comment))
            }
        }
        if (s.schema.comment ?? "") != (t.comment ?? "") {
            changes.append(.init(op: "alter", target: "table comment", isDestructive: false))
            alters.append(.setTableComment(t.path, t.comment))
        }
        // Indexes: by name.
        let currentIdx = s.storageSchema.indexes.filter { !$0.isAutomatic }
        var wanted: [String: SchemaPlan.Step] = [:]
        var wantedDetail: [String: String] = [:]
        for i in t.indexes {
            let name = i.name ?? "idx_\(i.column)"
            wanted[name] = .createIndex(t.path, i)
            wantedDetail[name] = "btree \(i.column)"
        }
        for i in t.embeddingIndexes {
            let name = i.name ?? "\(i.column)_embedding"
            wanted[name] = .createEmbeddingIndex(t.path, i)
            wantedDetail[name] = "embedding \(i.column) \(i.embedding) \(i.metric)"
        }
        var indexDrops: [SchemaPlan.Step] = []
        var indexAdds: [SchemaPlan.Step] = []
        let droppedColumns = Set(dropped.compactMap { s.byID[$0]?.name })
        for idx in currentIdx {
            let colName = s.byID[idx.columnID]?.name ?? ""
            let detail = idx.kind == .btree ? "btree \(colName)" : "embedding \(colName) \(idx.embedding ?? "") \(idx.metric ?? "cosine")"
            if wanted[idx.name] == nil {
                changes.append(.init(op: "drop", target: "index \(idx.name)", isDestructive: false))
                if !droppedColumns.contains(colName) { indexDrops.append(.dropIndex(t.path, idx.name)) }
            } else if wantedDetail[idx.name] != detail || droppedColumns.contains(colName) {
                changes.append(.init(op: "replace", target: "index \(idx.name)", detail: wantedDetail[idx.name], isDestructive: false))
                if !droppedColumns.contains(colName) { indexDrops.append(.dropIndex(t.path, idx.name)) }
                indexAdds.append(wanted[idx.name]!)
            }
        }
        for (name, step) in wanted.sorted(by: { $0.key < $1.key }) where !currentIdx.contains(where: { $0.name == name }) {
            changes.append(.init(op: "add", target: "index \(name)", detail: wantedDetail[name], isDestructive: false))
            indexAdds.append(step)
        }
        return (changes, indexDrops + drops.sorted { $0.id > $1.id }.map(\.step) + adds + alters + indexAdds, dropped)
    }

    /// An expression's display form in a table's scope, or the text itself if it does not bind.
    func normalized(_ text: String, in s: TableSnapshot) -> String {
        guard let syntax = try? ExpressionParser.parse(text), let (_, stored) = try? ExpressionBinder(scope: s.scope, source: text).bind(syntax) else {
            return text
        }
        return SyntaxCoding.display(stored) { s.byID[$0]?.name ?? "#\($0)" }
    }

    /// Applies the file: creates what is missing and changes what differs.
    ///
    /// - Parameter allowDestructive: Also make changes that drop or alter stored data; without
    ///   it such a plan is refused (DESTRUCTIVE_SCHEMA_CHANGE) and nothing is changed.
    /// - Parameter progress: Called as an embedding index embeds a table's rows, with what is
    ///   being built (`embedding index body_idx of docs`), rows done and rows in all.
    /// - Returns: The plan that was applied (in agreement when nothing had to change).
    @discardableResult
    public func apply(
        _ catalog: Catalog, allowDestructive: Bool = false, progress: (@Sendable (String, Int, Int) -> Void)? = nil
    ) async throws(PixeltableError) -> SchemaPlan {
        let plan = try await plan(catalog)
        if plan.isDestructive && !allowDestructive {
            let list = plan.changes.filter(\.isDestructive).map(\.target).joined(separator: ", ")
            throw PixeltableError(.destructiveSchemaChange, "\(path): applying it would drop or alter stored data (\(list)); rerun with --allow-destructive to apply")
        }
        for step in plan.steps {
            try await Self.run(step, catalog, progress: progress)
        }
        return plan
    }

    static func run(_ step: SchemaPlan.Step, _ catalog: Catalog, progress: (@Sendable (String, Int, Int) -> Void)?) async throws(PixeltableError) {
        func report(_ index: ModuleFile.EmbeddingIndexDecl, _ table: CatalogPath) -> (@Sendable (Int, Int) -> Void)? {
            guard let progress else { return nil }
            let what = "embedding index \(index.name ?? "\(index.column)_embedding") of \(table)"
            return { done, total in progress(what, done, total) }
        }
        switch step {
        case .createDirectory(let p):
            try await catalog.createDirectory(p.description, ifExists: .ignore)
        case .createTable(let t):
            var specs = t.columns.map { ColumnSpec($0.name, $0.type, comment: $0.comment) }
            for c in t.computed {
                var s = ColumnSpec.computed(c.name, c.expression.text, stored: c.stored, onError: c.onError, comment: c.comment)
                s.type = c.type
                specs.append(s)
            }
            let table = try await catalog.createTable(t.path.description, columns: specs, primaryKey: t.primaryKey, comment: t.comment)
            for i in t.indexes { try await table.createIndex(on: i.column, name: i.name) }
            for i in t.embeddingIndexes {
                try await table.createEmbeddingIndex(on: i.column, name: i.name, embedding: i.embedding, metric: i.metric, progress: report(i, t.path))
            }
        case .dropColumn(let p, let name):
            try await catalog.table(p.description).dropColumn(name)
        case .addColumn(let p, let c):
            try await catalog.table(p.description).addColumn(c.name, c.type, comment: c.comment)
        case .addComputed(let p, let c):
            try await catalog.table(p.description).addComputedColumn(c.name, expression: c.expression.text, stored: c.stored, onError: c.onError, comment: c.comment, type: c.type)
        case .setColumnComment(let p, let name, let comment):
            try await catalog.table(p.description).setColumnComment(name, comment)
        case .setTableComment(let p, let comment):
            try await catalog.table(p.description).setComment(comment)
        case .createIndex(let p, let i):
            try await catalog.table(p.description).createIndex(on: i.column, name: i.name)
        case .createEmbeddingIndex(let p, let i):
            try await catalog.table(p.description).createEmbeddingIndex(on: i.column, name: i.name, embedding: i.embedding, metric: i.metric, progress: report(i, p))
        case .dropIndex(let p, let name):
            try await catalog.table(p.description).dropIndex(name)
        case .dropView(let p):
            try await catalog.drop(p.description)
        case .createView(let v):
            if let it = v.iterator {
                let view = try await catalog.createView(v.path.description, base: v.base.description, iterator: it.text, comment: v.comment)
                for c in v.computed {
                    try await view.addComputedColumn(c.name, expression: c.expression.text, stored: c.stored, onError: c.onError, comment: c.comment, type: c.type)
                }
                for i in v.embeddingIndexes {
                    try await view.createEmbeddingIndex(on: i.column, name: i.name, embedding: i.embedding, metric: i.metric, progress: report(i, v.path))
                }
            } else {
                try await catalog.createView(v.path.description, base: v.base.description, filter: v.filter?.text, comment: v.comment)
            }
        }
    }

    /// The plan for a declared component view: create it (then its computed columns and
    /// indexes), add what the file adds to an existing one, or replace it when its base,
    /// iterator or a computed column's expression changed (its rows are made again).
    func componentViewPlan(_ v: ModuleFile.ViewDecl, state: CatalogState, rebuilt: Bool) throws(PixeltableError) -> (SchemaPlan.Entry, [SchemaPlan.Step]) {
        let detail = v.iterator?.text
        let replace = (
            SchemaPlan.Entry(path: v.path, kind: "view", action: "replace", changes: [.init(op: "replace", target: "view \(v.path)", detail: detail, isDestructive: false)]),
            [SchemaPlan.Step.dropView(v.path), .createView(v)]
        )
        switch state.entry(v.path) {
        case nil:
            return (
                SchemaPlan.Entry(path: v.path, kind: "view", action: "create", changes: [.init(op: "create", target: "view \(v.path)", detail: detail, isDestructive: false)]),
                [.createView(v)]
            )
        case .directory:
            throw PixeltableError(.invalidConfiguration, "\(v.location): '\(v.path)' is a directory in the catalog, not a view")
        case .table(let s):
            guard s.isComponentView, let rec = s.schema.iterator else {
                throw PixeltableError(
                    .schemaMismatch,
                    "\(v.location): No schema update can reconcile '\(v.path)': the catalog holds a \(s.kind == .view ? "filter view" : "table") there and the file declares a component view; adjust it manually.")
            }
            if rebuilt { return (replace.0, [.createView(v)]) }
            let squeeze = { (t: String) in t.filter { !$0.isWhitespace } }
            let base = s.baseID.flatMap { state.tables[$0]?.path }
            if base != v.base || squeeze(rec.text ?? "") != squeeze(v.iterator?.text ?? "") || (s.schema.comment ?? "") != (v.comment ?? "") {
                if !state.views(of: s.id).isEmpty {
                    throw PixeltableError(.schemaMismatch, "\(v.location): view '\(v.path)' changed, but other views depend on it; drop them first")
                }
                return replace
            }
            var changes: [SchemaPlan.Change] = []
            var steps: [SchemaPlan.Step] = []
            for c in v.computed {
                if let existing = s.byName[c.name] {
                    if squeeze(s.displayExpression(existing) ?? "") != squeeze(c.expression.text) && state.views(of: s.id).isEmpty { return replace }
                    continue
                }
                changes.append(.init(op: "add", target: "computed column \(c.name)", detail: c.expression.text, isDestructive: false))
                steps.append(.addComputed(v.path, c))
            }
            for i in v.embeddingIndexes where !s.storageSchema.indexes.contains(where: { $0.name == (i.name ?? "\(i.column)_embedding") }) {
                changes.append(.init(op: "add", target: "embedding index \(i.name ?? "\(i.column)_embedding")", detail: i.embedding, isDestructive: false))
                steps.append(.createEmbeddingIndex(v.path, i))
            }
            return (SchemaPlan.Entry(path: v.path, kind: "view", action: changes.isEmpty ? "none" : "alter", changes: changes), steps)
        }
    }
}

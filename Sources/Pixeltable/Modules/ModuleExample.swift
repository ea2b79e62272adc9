extension ModuleFile {
    /// A commented example module file, printed by `pxt schema example`.
    public static let example = """
        # A Pixeltable module file: what the catalog must hold. Apply it with
        #   pxt schema update example.toml
        # and compare it with the catalog with
        #   pxt schema diff example.toml
        # Applying the same file twice changes nothing.

        # Directories. Parents of tables and views are created as needed.
        [[dir]]
        path = "example"

        # A table with a primary key (primary-key columns are never null).
        [[table]]
        path = "example/docs"
        primary_key = ["id"]
        comment = "Documents to search"

        [table.columns]
        id    = "Int"
        title = "String"                                   # nullable by default
        body  = { type = "Required[String]", comment = "Full text" }
        meta  = "Json"

        # Computed columns: expressions over the columns above, computed on insert and update.
        [[table.computed]]
        name     = "title_upper"
        expr     = "title.upper()"
        on_error = "ignore"      # "abort" (the default) rejects the write instead

        [[table.computed]]
        name   = "body_len"
        expr   = "body.len()"
        stored = false           # computed when read

        # A B-tree index, used by equality and range filters.
        [[table.index]]
        column = "title"

        # An embedding index for similarity search.
        [[table.embedding_index]]
        name      = "body_idx"
        column    = "body"
        embedding = "text.embed_hash(dims=256)"
        metric    = "cosine"

        # A view: a filter over a table, always current with it.
        [[view]]
        path  = "example/long_docs"
        base  = "example/docs"
        where = "body.len() > 1000"

        # Named queries, run with `pxt query example.search_docs --arg query_text=...`
        # (when this file is example.toml) or served with `pxt serve`.
        [[query]]
        name     = "search_docs"
        table    = "example/docs"
        params   = { query_text = "String", k = { type = "Int", default = 5 } }
        select   = ["id", "title", "body.similarity(:query_text) as score"]
        where    = "title is not null"
        order_by = ["score desc"]
        limit    = ":k"

        # A retrieval query: equality on the listed columns, every column returned.
        [[query]]
        name      = "lookup_by_id"
        table     = "example/docs"
        retrieval = ["id"]
        limit     = 10

        """
}

import Pixeltable

/// The `/docs` page: every route with its request and response schemas, rendered on the server
/// (works offline, without JavaScript), plus a small form per route that sends a request from
/// the browser.
enum DocsPage {
    static func escape(_ s: String) -> String {
        var out = ""
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(c)
            }
        }
        return out
    }

    /// The credentials field of an authenticated service's page: what is typed goes with every
    /// request as `Authorization: Bearer`, and is kept for the tab's session only.
    static let keyField = """
        <p><label>API key or token <input id="pxt-key" type="password" size="60" autocomplete="off"></label></p>
        <script>const k = sessionStorage.getItem('pxt-key'); if (k) document.getElementById('pxt-key').value = k;</script>
        """

    static func resolve(_ schema: JSONValue, _ doc: JSONValue) -> JSONValue {
        if let r = schema["$ref"]?.stringValue, let name = r.split(separator: "/").last {
            return doc["components"]?["schemas"]?[String(name)] ?? schema
        }
        return schema
    }

    static func typeText(_ s: JSONValue, _ doc: JSONValue) -> String {
        if let r = s["$ref"]?.stringValue { return String(r.split(separator: "/").last ?? "") }
        if let any = s["anyOf"]?.arrayValue { return any.map { typeText($0, doc) }.joined(separator: " | ") }
        var t = s["type"]?.stringValue ?? "any"
        if t == "array", let items = s["items"] { t = "array of " + typeText(items, doc) }
        if let f = s["format"]?.stringValue { t += " (\(f))" }
        return t
    }

    static func fieldTable(_ schema: JSONValue, _ doc: JSONValue) -> String {
        let s = resolve(schema, doc)
        guard case .object(let props)? = s["properties"] else {
            return "<p class=\"t\">\(escape(typeText(schema, doc)))</p>"
        }
        let required = Set((s["required"]?.arrayValue ?? []).compactMap(\.stringValue))
        var h = "<table><tr><th>field</th><th>type</th><th>required</th><th>description</th></tr>"
        for (k, v) in props {
            let def = v["default"].map { " (default \(escape(JSONWriter.compact.string($0))))" } ?? ""
            h += "<tr><td><code>\(escape(k))</code></td><td>\(escape(typeText(v, doc)))\(def)</td><td>\(required.contains(k) ? "yes" : "")</td><td>\(escape(v["description"]?.stringValue ?? ""))</td></tr>"
        }
        return h + "</table>"
    }

    /// An example request body built from a schema.
    static func example(_ schema: JSONValue, _ doc: JSONValue) -> JSONValue {
        let s = resolve(schema, doc)
        if case .object(let props)? = s["properties"] {
            var o = JSONObject()
            for (k, v) in props { o[k] = example(v, doc) }
            return .object(o)
        }
        if let d = s["default"], !d.isNull { return d }
        if let any = s["anyOf"]?.arrayValue, let first = any.first { return example(first, doc) }
        switch s["type"]?.stringValue {
        case "integer": return 0
        case "number": return 0.0
        case "boolean": return false
        case "array": return []
        case "string":
            switch s["format"]?.stringValue {
            case "date-time": return "2024-01-01T00:00:00Z"
            case "date": return "2024-01-01"
            case "uuid": return "00000000-0000-0000-0000-000000000000"
            default: return "string"
            }
        default: return .null
        }
    }

    static func render(_ doc: JSONValue, openAPIPath: String) -> String {
        let title = escape(doc["info"]?["title"]?.stringValue ?? "API")
        var body = ""
        var index = 0
        for (path, item) in doc["paths"]?.objectValue ?? JSONObject() {
            for (method, op) in item.objectValue ?? JSONObject() {
                index += 1
                body += "<section><h2><span class=\"m \(method)\">\(method.uppercased())</span> <code>\(escape(path))</code></h2>"
                body += "<p>\(escape(op["summary"]?.stringValue ?? ""))</p>"
                var sample: JSONValue? = nil
                if let params = op["parameters"]?.arrayValue, !params.isEmpty {
                    body += "<h3>Parameters</h3><table><tr><th>name</th><th>in</th><th>type</th><th>required</th></tr>"
                    for p in params {
                        body += "<tr><td><code>\(escape(p["name"]?.stringValue ?? ""))</code></td><td>\(escape(p["in"]?.stringValue ?? ""))</td><td>\(escape(typeText(p["schema"] ?? .null, doc)))</td><td>\(p["required"]?.boolValue == true ? "yes" : "")</td></tr>"
                    }
                    body += "</table>"
                }
                if let schema = op["requestBody"]?["content"]?["application/json"]?["schema"] {
                    body += "<h3>Request body (JSON)</h3>" + fieldTable(schema, doc)
                    sample = example(schema, doc)
                }
                var formFields: [(name: String, isFile: Bool)] = []
                if let schema = op["requestBody"]?["content"]?["multipart/form-data"]?["schema"] {
                    body += "<h3>Request body (multipart form)</h3>" + fieldTable(schema, doc)
                    let resolved = resolve(schema, doc)
                    for (name, p) in resolved["properties"]?.objectValue ?? JSONObject() {
                        formFields.append((name, p["format"]?.stringValue == "binary"))
                    }
                }
                if let schema = op["responses"]?["200"]?["content"]?["application/json"]?["schema"] {
                    body += "<h3>Response 200: \(escape(typeText(schema, doc)))</h3>" + fieldTable(schema, doc)
                } else if let content = op["responses"]?["200"]?["content"]?.objectValue, let type = content.pairs.first?.key {
                    body += "<h3>Response 200: a file (\(escape(type)))</h3>"
                }
                let needsPath = path.contains("{")
                body += "<details><summary>Try it</summary><form data-method=\"\(method)\" data-path=\"\(escape(path))\" onsubmit=\"return send(this)\">"
                if needsPath { body += "<label>path <input name=\"path\" value=\"\(escape(path))\" size=\"60\"></label><br>" }
                if method == "get", let params = op["parameters"]?.arrayValue, !params.isEmpty, !needsPath {
                    body += "<label>query string <input name=\"query\" size=\"60\" placeholder=\"\(escape(params.compactMap { $0["name"]?.stringValue }.map { "\($0)=" }.joined(separator: "&")))\"></label><br>"
                }
                if let sample {
                    body += "<textarea name=\"body\" rows=\"6\" cols=\"70\">\(escape(JSONWriter.pretty.string(sample)))</textarea><br>"
                }
                for f in formFields {
                    body += "<label>\(escape(f.name)) <input class=\"mp\" data-name=\"\(escape(f.name))\" type=\"\(f.isFile ? "file" : "text")\"></label><br>"
                }
                body += "<button>Send</button><pre class=\"out\"></pre></form></details></section>\n"
            }
        }
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>\(title) - docs</title>
            <style>
            body{font:14px system-ui,sans-serif;max-width:1000px;margin:20px auto;padding:0 12px}
            section{border:1px solid #ddd;border-radius:6px;padding:8px 14px;margin:12px 0}
            h2{font-size:16px;margin:6px 0}h3{font-size:14px;margin:10px 0 4px}
            .m{display:inline-block;min-width:48px;text-align:center;color:#fff;border-radius:4px;padding:2px 6px;font-size:12px}
            .post{background:#49cc90}.get{background:#61affe}
            table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:3px 8px;text-align:left}
            pre{background:#f6f6f6;padding:6px;white-space:pre-wrap}
            </style></head><body>
            <h1>\(title)</h1>
            <p>OpenAPI document: <a href="\(escape(openAPIPath))">\(escape(openAPIPath))</a></p>
            \(doc["components"]?["securitySchemes"] != nil ? keyField : "")
            \(body)
            <script>
            async function send(form){
              const out = form.querySelector('.out');
              let path = form.dataset.path;
              if (form.path) path = form.path.value;
              if (form.query && form.query.value) path += '?' + form.query.value;
              const opts = {method: form.dataset.method.toUpperCase(), headers: {}};
              const key = document.getElementById('pxt-key');
              if (key && key.value) { opts.headers['Authorization'] = 'Bearer ' + key.value; sessionStorage.setItem('pxt-key', key.value); }
              if (form.body) { opts.body = form.body.value; opts.headers['Content-Type'] = 'application/json'; }
              const parts = form.querySelectorAll('input.mp');
              if (parts.length) {
                const fd = new FormData();
                for (const i of parts) {
                  if (i.type === 'file') { if (i.files.length) fd.append(i.dataset.name, i.files[0]); }
                  else if (i.value !== '') fd.append(i.dataset.name, i.value);
                }
                opts.body = fd;
              }
              out.textContent = '...';
              try {
                const r = await fetch(path, opts);
                const type = r.headers.get('content-type') || '';
                if (!type.startsWith('application/json')) {
                  const blob = await r.blob();
                  out.textContent = r.status + ' ' + r.statusText + '\\n' + blob.size + ' bytes of ' + type;
                  if (type.startsWith('image/')) { const img = document.createElement('img'); img.src = URL.createObjectURL(blob); img.style.maxWidth = '100%'; out.appendChild(document.createElement('br')); out.appendChild(img); }
                  return false;
                }
                const text = await r.text();
                let shown = text; try { shown = JSON.stringify(JSON.parse(text), null, 2); } catch (e) {}
                out.textContent = r.status + ' ' + r.statusText + '\\n' + shown;
              } catch (e) { out.textContent = String(e); }
              return false;
            }
            </script></body></html>
            """
    }
}

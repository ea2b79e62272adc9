/// The dashboard page the daemon serves at `/`: the catalog tree and a table's first rows.
///
/// Self-contained (no external assets). The page reads the daemon secret from its URL
/// (`?token=`), which `pxt dashboard` prints.
enum Dashboard {
    static let html = """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>pxt dashboard</title>
        <style>
        body{font:14px system-ui,sans-serif;margin:0;display:flex;height:100vh}
        nav{width:280px;border-right:1px solid #ddd;overflow:auto;padding:8px}
        main{flex:1;overflow:auto;padding:12px}
        nav div{padding:2px 4px;cursor:pointer;white-space:nowrap}
        nav div.dir{color:#555;cursor:default}
        nav div:hover{background:#eef}
        table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:3px 6px;text-align:left;vertical-align:top}
        th{background:#f4f4f4}.muted{color:#888}
        </style></head>
        <body><nav id="tree"><b>Catalog</b></nav><main id="main"><p class="muted">Select a table.</p></main>
        <script>
        const token = new URLSearchParams(location.search).get('token') || '';
        async function api(path){
          const r = await fetch(path + (path.includes('?') ? '&' : '?') + 'token=' + encodeURIComponent(token));
          const j = await r.json(); if(!r.ok) throw new Error(j.detail || r.statusText); return j;
        }
        function esc(s){return String(s).replace(/[&<>"]/g,c=>({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;'}[c]));}
        function cell(v){ if(v===null) return '<span class="muted">null</span>'; return esc(typeof v==='object'?JSON.stringify(v):v); }
        async function show(path){
          const m = document.getElementById('main');
          try{
            const d = await api('/api/dashboard/data?path=' + encodeURIComponent(path));
            let h = '<h3>' + esc(path) + '</h3><p class="muted">' + d.total_count + ' rows</p><table><tr>' + d.columns.map(c=>'<th>'+esc(c)+'</th>').join('') + '</tr>';
            for(const r of d.rows){ h += '<tr>' + d.columns.map(c=>'<td>'+cell(r[c])+'</td>').join('') + '</tr>'; }
            m.innerHTML = h + '</table>';
          }catch(e){ m.innerHTML = '<p>' + esc(e.message) + '</p>'; }
        }
        (async()=>{
          const nav = document.getElementById('tree');
          try{
            const t = await api('/api/dashboard/tree');
            for(const e of t.entries){
              const div = document.createElement('div');
              const depth = e.path.split('/').length - 1;
              div.style.paddingLeft = (4 + depth*14) + 'px';
              div.textContent = e.path.split('/').pop() + (e.kind==='dir' ? '/' : '  (' + e.kind + ')');
              if(e.kind==='dir'){ div.className='dir'; } else { div.onclick = () => show(e.path); }
              nav.appendChild(div);
            }
          }catch(e){ nav.append(' ' + e.message); }
        })();
        </script></body></html>
        """
}

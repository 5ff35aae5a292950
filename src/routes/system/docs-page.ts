/**
 * An interactive API reference that needs nothing but this Worker: it reads /openapi.json, lists every
 * operation by tag with its parameters, body and responses, and sends real requests ("Try it") with a
 * token kept in the browser's localStorage. No CDN script, so it works offline under `npm run dev`.
 */
export function docsPage(specUrl: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Segmento Edge API reference</title>
<style>
body{margin:0;font:14px/1.5 system-ui,sans-serif;color:#1d2430;display:flex;height:100vh}
nav{width:290px;overflow:auto;border-right:1px solid #e3e6ea;padding:12px;background:#f7f8fa;flex-shrink:0}
main{flex:1;overflow:auto;padding:20px 32px}
nav h3{margin:14px 0 4px;font-size:12px;text-transform:uppercase;color:#667}
nav a{display:block;color:inherit;text-decoration:none;padding:2px 4px;border-radius:4px;font-size:13px}
nav a:hover{background:#e8ebf0}
.m{display:inline-block;width:52px;font:bold 11px monospace}
.get{color:#2b7a3d}.post{color:#1f5fbf}.patch{color:#a36a00}.put{color:#a36a00}.delete{color:#b42318}
section.op{border:1px solid #e3e6ea;border-radius:8px;padding:14px 18px;margin:0 0 18px}
code,pre,textarea,input{font:12px/1.4 ui-monospace,monospace}
pre{background:#f4f5f7;padding:10px;border-radius:6px;overflow:auto;max-height:360px}
table{border-collapse:collapse;margin:6px 0}td,th{border-bottom:1px solid #eee;padding:3px 10px 3px 0;text-align:left;vertical-align:top}
textarea{width:100%;min-height:90px}input{padding:3px 5px}button{padding:4px 12px;cursor:pointer}
.auth{position:sticky;top:0;background:#fff;padding:8px 0 12px;border-bottom:1px solid #eee;margin-bottom:16px}
.tag{font-size:11px;background:#eef;border-radius:4px;padding:1px 6px;margin-left:6px}
</style></head>
<body><nav id="nav">Loading…</nav><main>
<div class="auth"><label>Bearer token or API key <input id="token" size="70" placeholder="eyJ… or sk_live_…"></label>
<label style="margin-left:12px">Accept-Language <select id="lang"><option>en</option><option>tr</option></select></label></div>
<div id="ops"></div></main>
<script>
const tokenInput = document.getElementById("token");
tokenInput.value = localStorage.getItem("segmento.token") || "";
tokenInput.onchange = () => localStorage.setItem("segmento.token", tokenInput.value.trim());
const esc = (s) => String(s ?? "").replace(/[&<>"]/g, (ch) => ({"&":"&amp;","<":"&lt;",">":"&gt;",'"':"&quot;"}[ch]));
let spec;
const deref = (s) => { let seen = 0; while (s && s.$ref && seen++ < 20) s = s.$ref.split("/").slice(1).reduce((o, k) => o[k], spec); return s; };
function example(schema, depth = 0) {
  schema = deref(schema) || {};
  if (schema.example !== undefined) return schema.example;
  if (depth > 6) return null;
  if (schema.anyOf || schema.oneOf) return example((schema.anyOf || schema.oneOf)[0], depth + 1);
  if (schema.enum) return schema.enum[0];
  switch (Array.isArray(schema.type) ? schema.type[0] : schema.type) {
    case "object": { const o = {}; for (const [k, v] of Object.entries(schema.properties || {})) o[k] = example(v, depth + 1); return o; }
    case "array": return [example(schema.items, depth + 1)];
    case "string": return schema.format === "date-time" ? new Date().toISOString() : "string";
    case "integer": case "number": return schema.minimum ?? 0;
    case "boolean": return true;
    default: return null;
  }
}
function schemaTable(schema) {
  schema = deref(schema) || {};
  if (!schema.properties) return "<pre>" + esc(JSON.stringify(example(schema), null, 2)) + "</pre>";
  const required = new Set(schema.required || []);
  return "<table><tr><th>field</th><th>type</th><th></th></tr>" + Object.entries(schema.properties).map(([k, v]) => {
    const d = deref(v) || {};
    const type = d.enum ? d.enum.map(JSON.stringify).join(" | ") : (d.type || (d.anyOf ? "one of" : "")) + (d.format ? " (" + d.format + ")" : "");
    const limits = ["minLength","maxLength","minimum","maximum","minItems","maxItems"].filter((x) => d[x] !== undefined).map((x) => x + " " + d[x]).join(", ");
    return "<tr><td><code>" + esc(k) + "</code>" + (required.has(k) ? " *" : "") + "</td><td>" + esc(type) + "</td><td>" + esc([d.description, limits].filter(Boolean).join(" · ")) + "</td></tr>";
  }).join("") + "</table>";
}
async function send(id, method, path) {
  const form = document.getElementById(id);
  let url = path.replace(/\\{(\\w+)\\}/g, (_, name) => encodeURIComponent(form.querySelector('[data-path="' + name + '"]').value));
  const query = new URLSearchParams();
  form.querySelectorAll("[data-query]").forEach((el) => el.value && query.set(el.dataset.query, el.value));
  if ([...query].length) url += "?" + query;
  const headers = { "Accept-Language": document.getElementById("lang").value };
  const token = tokenInput.value.trim();
  if (token) headers.Authorization = "Bearer " + token;
  const body = form.querySelector("textarea");
  if (body) headers["Content-Type"] = "application/json";
  const out = form.querySelector("pre.out");
  out.textContent = "…";
  const res = await fetch(url, { method: method.toUpperCase(), headers, body: body ? body.value : undefined });
  const text = await res.text();
  let shown = text; try { shown = JSON.stringify(JSON.parse(text), null, 2); } catch {}
  const rate = ["RateLimit-Limit","RateLimit-Remaining","RateLimit-Reset"].map((h) => h + ": " + res.headers.get(h)).join("\\n");
  out.textContent = res.status + " " + res.statusText + "\\n" + rate + "\\n\\n" + shown;
  const parsed = (() => { try { return JSON.parse(text); } catch { return null; } })();
  if (parsed && typeof parsed.token === "string") { tokenInput.value = parsed.token; tokenInput.onchange(); }
}
fetch(${JSON.stringify(specUrl)}).then((r) => r.json()).then((s) => {
  spec = s;
  const byTag = {};
  let n = 0;
  for (const [path, item] of Object.entries(spec.paths)) for (const [method, op] of Object.entries(item)) {
    const tag = (op.tags || ["Other"])[0];
    (byTag[tag] ||= []).push({ id: "op" + n++, path, method, op });
  }
  const nav = [], ops = ["<h1>" + esc(spec.info.title) + " <small>" + esc(spec.info.version) + "</small></h1><p>" + esc(spec.info.description) + "</p><p><a href='" + ${JSON.stringify(specUrl)} + "'>openapi.json</a></p>"];
  for (const [tag, list] of Object.entries(byTag)) {
    nav.push("<h3>" + esc(tag) + "</h3>");
    for (const { id, path, method, op } of list) {
      nav.push('<a href="#' + id + '"><span class="m ' + method + '">' + method.toUpperCase() + "</span>" + esc(path) + "</a>");
      const params = op.parameters || [];
      const body = op.requestBody && deref(op.requestBody).content && deref(op.requestBody).content["application/json"];
      const auth = op.security ? op.security.map((x) => Object.keys(x)[0]).join(" or ") : "none";
      ops.push('<section class="op" id="' + id + '"><h2><span class="m ' + method + '">' + method.toUpperCase() + "</span><code>" + esc(path) + "</code><span class='tag'>" + esc(tag) + "</span></h2>" +
        "<p><b>" + esc(op.summary) + "</b><br>" + esc(op.description) + "</p><p>Auth: <code>" + esc(auth) + "</code></p>" +
        (params.length ? "<h4>Parameters</h4><table>" + params.map((p) => "<tr><td><code>" + esc(p.name) + "</code></td><td>" + esc(p.in) + (p.required ? " *" : "") + "</td><td>" + esc((deref(p.schema) || {}).type) + "</td><td>" + esc(p.description) + "</td></tr>").join("") + "</table>" : "") +
        (body ? "<h4>Body</h4>" + schemaTable(body.schema) : "") +
        "<h4>Responses</h4><table>" + Object.entries(op.responses).map(([code, r]) => "<tr><td><b>" + esc(code) + "</b></td><td>" + esc(deref(r).description) + "</td></tr>").join("") + "</table>" +
        '<details><summary>Try it</summary><div id="' + id + 'f">' +
        params.filter((p) => p.in === "path" || p.in === "query").map((p) => "<label>" + esc(p.name) + ' <input data-' + p.in + '="' + esc(p.name) + '"></label> ').join("") +
        (body ? "<textarea>" + esc(JSON.stringify(example(body.schema), null, 2)) + "</textarea>" : "") +
        '<button onclick="send(\\'' + id + "f','" + method + "','" + path + "')\\">Send</button><pre class='out'></pre></div></details></section>");
    }
  }
  document.getElementById("nav").innerHTML = nav.join("");
  document.getElementById("ops").innerHTML = ops.join("");
});
</script></body></html>`;
}

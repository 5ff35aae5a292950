/**
 * An interactive API reference that needs nothing but this Worker: it reads /openapi.json, lists every
 * operation by tag with its parameters, body and responses, and sends real requests ("Try it") with the
 * credentials kept in the browser's localStorage. No CDN script, so it works offline under `npm run dev`.
 */
export function docsPage(specUrl: string, nonce: string): string {
  // JSON is valid JS; "<" is escaped so the value can never close the <script> element.
  const specLiteral = JSON.stringify(specUrl).replace(/</g, "\\u003c");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Segmento Edge API reference</title><link rel="icon" href="data:,">
<style nonce="${nonce}">${styles}</style></head>
<body><nav><input id="filter" type="search" placeholder="Filter operations…" aria-label="Filter operations"><div id="nav">Loading…</div></nav>
<main><div class="auth" id="auth"></div><div id="ops"><p>Loading the OpenAPI document…</p></div></main>
<script nonce="${nonce}">const SPEC_URL = ${specLiteral};
${script}</script></body></html>`;
}

const styles = `
*{box-sizing:border-box}
body{margin:0;font:14px/1.5 system-ui,sans-serif;color:#1d2430;display:flex;align-items:flex-start}
nav{width:300px;position:sticky;top:0;height:100vh;overflow:auto;border-right:1px solid #e3e6ea;padding:12px;background:#f7f8fa;flex-shrink:0}
nav input{width:100%;margin-bottom:4px}
main{flex:1;min-width:0;padding:0 32px 40px}
nav h3{margin:14px 0 4px;font-size:12px;text-transform:uppercase;color:#667}
nav a{display:flex;color:inherit;text-decoration:none;padding:2px 4px;border-radius:4px;font-size:13px;overflow-wrap:anywhere}
nav a:hover{background:#e8ebf0}
.m{display:inline-block;min-width:56px;flex-shrink:0;font:bold 11px/20px ui-monospace,monospace}
.get{color:#2b7a3d}.post{color:#1f5fbf}.patch,.put{color:#a36a00}.delete{color:#b42318}
section.op{border:1px solid #e3e6ea;border-radius:8px;padding:4px 18px 14px;margin:0 0 18px;scroll-margin-top:90px}
section.op h2{font-size:17px;display:flex;align-items:center;gap:6px;flex-wrap:wrap}
h4{margin:14px 0 4px}
code,pre,textarea,input,select{font:12px/1.4 ui-monospace,monospace}
p code,td code,li code{background:#f1f2f5;padding:0 3px;border-radius:3px}
pre{background:#f4f5f7;padding:10px;border-radius:6px;overflow:auto;max-height:420px;margin:6px 0}
table{border-collapse:collapse;margin:4px 0;width:100%}
td,th{border-bottom:1px solid #eee;padding:3px 12px 3px 0;text-align:left;vertical-align:top}
th{font-size:12px;color:#667;font-weight:600}
td:first-child{white-space:nowrap}
.type{color:#6b4fbb;font-family:ui-monospace,monospace;font-size:12px}
.req{color:#b42318}.muted{color:#778;font-size:12px}
.nest{color:#aab}
textarea{width:100%;min-height:110px}input{padding:3px 5px}button{padding:4px 14px;cursor:pointer}
.auth{position:sticky;top:0;z-index:1;background:#fff;padding:10px 0;border-bottom:1px solid #eee;margin-bottom:16px;display:flex;flex-wrap:wrap;gap:6px 16px;align-items:center}
.auth input{width:300px}
.tag{font-size:11px;background:#eef;border-radius:4px;padding:1px 6px;font-weight:normal}
details.try{background:#fafbfc;border:1px solid #e3e6ea;border-radius:6px;padding:6px 10px;margin-top:12px}
details.try summary{cursor:pointer;font-weight:600}
.fields{display:grid;grid-template-columns:max-content 1fr;gap:4px 10px;align-items:center;margin:8px 0}
.fields input,.fields select{max-width:460px;width:100%}
details.resp summary{cursor:pointer}
.status{font-weight:bold}.ok{color:#2b7a3d}.bad{color:#b42318}
.error{color:#b42318;background:#fdecea;padding:10px;border-radius:6px}
@media (max-width:800px){body{display:block}nav{position:static;width:auto;height:auto;max-height:40vh;border-right:0;border-bottom:1px solid #e3e6ea}main{padding:0 12px 40px}.auth{position:static}.auth input{width:100%}}
`;

// Plain JS for the browser. String.raw keeps every backslash as written; the code must contain no backtick
// (inline-code Markdown matches it as \x60) and no dollar-brace.
const script = String.raw`
const $ = (id) => document.getElementById(id);
const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[ch]);
// Descriptions use a little Markdown: only inline code is rendered.
const md = (s) => esc(s).replace(/\x60([^\x60]+)\x60/g, "<code>$1</code>");
const store = {
  get: (k) => { try { return localStorage.getItem("segmento." + k) || ""; } catch { return ""; } },
  set: (k, v) => { try { v ? localStorage.setItem("segmento." + k, v) : localStorage.removeItem("segmento." + k); } catch {} },
};
let spec = {};
const schemes = () => (spec.components && spec.components.securitySchemes) || {};

function resolveRef(ref) {
  const found = ref.startsWith("#/") ? ref.slice(2).split("/").reduce((o, k) => (o == null ? o : o[k.replace(/~1/g, "/").replace(/~0/g, "~")]), spec) : undefined;
  return found || {};
}
function deref(s) {
  for (let i = 0; s && s.$ref && i < 20; i++) s = resolveRef(s.$ref);
  return s || {};
}
const refName = (s) => (s && s.$ref ? s.$ref.split("/").pop() : "");
const isNull = (s) => deref(s).type === "null";
const hasType = (s, t) => s.type === t || (Array.isArray(s.type) && s.type.includes(t));

// allOf parts merged into one object schema (properties and required lists combined).
function merged(schema) {
  const s = deref(schema);
  if (!s.allOf) return s;
  const out = { type: "object", properties: {}, required: [], description: s.description };
  for (const part of s.allOf) {
    const p = merged(part);
    Object.assign(out.properties, p.properties || {});
    out.required.push(...(p.required || []));
    if (!out.description) out.description = p.description;
  }
  return out;
}

function typeLabel(schema) {
  if (!schema) return "any";
  const name = refName(schema);
  const s = deref(schema);
  let label;
  if (s.const !== undefined) label = JSON.stringify(s.const);
  else if (s.enum) label = s.enum.map((v) => JSON.stringify(v)).join(" | ");
  else if (s.anyOf || s.oneOf) label = (s.anyOf || s.oneOf).map(typeLabel).join(" | ");
  else if (name) label = name;
  else if (s.allOf) label = s.allOf.map(typeLabel).join(" & ");
  else {
    const types = Array.isArray(s.type) ? s.type : s.type ? [s.type] : [];
    label = types.map((t) =>
      t === "array" ? (s.items && (deref(s.items).anyOf || deref(s.items).oneOf) ? "(" + typeLabel(s.items) + ")[]" : typeLabel(s.items) + "[]")
      : t === "string" && s.format ? "string<" + s.format + ">"
      : t === "object" && !s.properties && s.additionalProperties && s.additionalProperties !== true && Object.keys(s.additionalProperties).length ? "map<string, " + typeLabel(s.additionalProperties) + ">"
      : t).join(" | ") || (s.properties ? "object" : "any");
  }
  if (s.nullable && !/\bnull$/.test(label)) label += " | null";
  return label;
}

function constraints(s) {
  const notes = ["minLength", "maxLength", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minItems", "maxItems", "pattern", "default"]
    .filter((k) => s[k] !== undefined).map((k) => k + ": " + (k === "pattern" ? s[k] : JSON.stringify(s[k])));
  if (s.example !== undefined && typeof s.example !== "object") notes.push("e.g. " + JSON.stringify(s.example));
  return notes.length ? '<div class="muted">' + esc(notes.join(" · ")) + "</div>" : "";
}

// The object schema to expand under a field: its own properties, or those of its array items,
// or of its one non-null alternative (nullable objects).
function expandable(schema) {
  let s = merged(schema);
  if ((s.anyOf || s.oneOf)) {
    const options = (s.anyOf || s.oneOf).filter((x) => !isNull(x));
    if (options.length !== 1) return null;
    s = merged(options[0]);
  }
  if (hasType(s, "array")) s = s.items ? merged(s.items) : {};
  return s.properties ? s : null;
}

function fieldRows(schema, prefix, depth, seen) {
  const s = merged(schema);
  const required = new Set(s.required || []);
  return Object.entries(s.properties || {}).map(([name, prop]) => {
    const d = deref(prop);
    const ref = refName(prop) || refName(d.items);
    const child = depth < 5 && !seen.includes(ref) ? expandable(prop) : null;
    const isArray = hasType(merged(prop), "array");
    const row = "<tr><td><code><span class=nest>" + esc(prefix) + "</span>" + esc(name) + "</code>" + (required.has(name) ? ' <span class=req title="required">*</span>' : "") +
      '</td><td class=type>' + esc(typeLabel(prop)) + "</td><td>" + md(d.description || merged(prop).description) + constraints(d) + "</td></tr>";
    return row + (child ? fieldRows(child, prefix + name + (isArray ? "[]." : "."), depth + 1, ref ? seen.concat(ref) : seen) : "");
  }).join("");
}

function schemaView(schema) {
  if (!schema) return "";
  const s = merged(schema);
  const name = refName(schema) || refName(s.items);
  let html = '<div class="muted">Type: <span class=type>' + esc(typeLabel(schema)) + "</span></div>";
  const obj = expandable(schema);
  if (obj) html += "<table><tr><th>field</th><th>type</th><th>description</th></tr>" + fieldRows(obj, hasType(s, "array") ? "[]." : "", 0, name ? [name] : []) + "</table>";
  else if (s.description) html += "<p>" + md(s.description) + "</p>";
  return html;
}

function example(schema, depth = 0) {
  const s = merged(schema);
  if (s.example !== undefined) return s.example;
  if (s.examples && s.examples.length) return s.examples[0];
  if (s.default !== undefined) return s.default;
  if (depth > 6) return null;
  if (s.const !== undefined) return s.const;
  if (s.anyOf || s.oneOf) { const o = (s.anyOf || s.oneOf).filter((x) => !isNull(x)); return o.length ? example(o[0], depth + 1) : null; }
  if (s.enum) return s.enum[0];
  const type = Array.isArray(s.type) ? s.type.find((t) => t !== "null") : s.type || (s.properties ? "object" : undefined);
  switch (type) {
    case "object": { const o = {}; for (const [k, v] of Object.entries(s.properties || {})) o[k] = example(v, depth + 1); return o; }
    case "array": return s.items ? [example(s.items, depth + 1)] : [];
    case "string": return s.format === "date-time" ? new Date().toISOString() : s.format === "email" ? "user@example.com" : "string";
    case "integer": case "number": return s.minimum ?? 0;
    case "boolean": return true;
    default: return null;
  }
}

// ---- credentials: one input per Bearer/header scheme; cookies are sent by the browser itself ----
const credentialKey = (name) => "credential." + name;
function renderAuth() {
  const parts = [];
  for (const [name, scheme] of Object.entries(schemes())) {
    if (scheme.type === "apiKey" && scheme.in === "cookie") continue;
    const hint = scheme.bearerFormat === "JWT" ? "eyJ… (filled in by sign-in)" : scheme.bearerFormat || "";
    parts.push('<label title="' + esc(scheme.description) + '">' + esc(name) + ' <input data-credential="' + esc(name) + '" placeholder="' + esc(hint) + '" value="' + esc(store.get(credentialKey(name))) + '" autocomplete="off" spellcheck="false"></label>');
  }
  parts.push('<label>Accept-Language <select id="lang">' + ["en", "tr"].map((l) => "<option" + (store.get("lang") === l ? " selected" : "") + ">" + l + "</option>").join("") + "</select></label>");
  $("auth").innerHTML = parts.join("");
  $("auth").addEventListener("input", (e) => {
    if (e.target.dataset.credential) { store.set(credentialKey(e.target.dataset.credential), e.target.value.trim()); syncAllAuth(); }
    if (e.target.id === "lang") store.set("lang", e.target.value);
  });
}
const credential = (name) => { const el = document.querySelector('[data-credential="' + CSS.escape(name) + '"]'); return el ? el.value.trim() : ""; };
function setCredential(name, value) {
  const el = document.querySelector('[data-credential="' + CSS.escape(name) + '"]');
  if (el) { el.value = value; store.set(credentialKey(name), value); syncAllAuth(); }
}
const isCookie = (name) => (schemes()[name] || {}).type === "apiKey" && schemes()[name].in === "cookie";

// Which alternative of op.security to preselect: the first whose inputs are filled in.
function authOptions(op) {
  const security = op.security || spec.security || [];
  const options = security.map((req) => Object.keys(req)).filter((names) => names.length);
  let chosen = options.findIndex((names) => names.every((n) => !isCookie(n) && credential(n)));
  if (chosen < 0) chosen = Math.max(0, options.findIndex((names) => names.every(isCookie)));
  return { options, chosen };
}
// Until the user picks one, the preselection follows the credentials filled in at the top.
function syncAuth(form) {
  const select = form.querySelector("[data-auth]");
  if (select && !select.dataset.touched) select.value = String(authOptions(ops.get(form.dataset.op).op).chosen);
}
const syncAllAuth = () => document.querySelectorAll("form[data-op]").forEach(syncAuth);
function authSelect(op) {
  const { options, chosen } = authOptions(op);
  if (!options.length) return "";
  return '<label>Auth</label><select data-auth>' + options.map((names, i) => '<option value="' + i + '"' + (i === chosen ? " selected" : "") + ">" + esc(names.join(" + ")) + (names.every(isCookie) ? " (browser cookie from sign-in)" : "") + "</option>").join("") + '<option value="none">none</option></select>';
}

// ---- rendering ----
// The media type to show and send: JSON when offered, otherwise the first one listed.
function media(content) {
  if (!content) return null;
  const type = content["application/json"] ? "application/json" : Object.keys(content)[0];
  return type ? { type, ...content[type] } : null;
}
const isForm = (type) => type === "multipart/form-data" || type === "application/x-www-form-urlencoded";
// A textarea for the body, or (for forms) one grid row per field.
function bodyEditor(json) {
  if (!isForm(json.type)) {
    const sample = json.example ?? example(json.schema);
    const text = json.type.includes("json") ? JSON.stringify(sample, null, 2) : typeof sample === "string" ? sample : "";
    return '<textarea name="body" spellcheck="false">' + esc(text) + "</textarea>";
  }
  return Object.entries(merged(json.schema).properties || {}).map(([name, prop]) => {
    const d = deref(prop);
    const file = d.format === "binary" || d.contentMediaType !== undefined;
    return "<label>" + esc(name) + ' <span class="muted">form</span></label><input data-part="' + esc(name) + '"' + (file ? ' type="file"' : ' placeholder="' + esc(typeLabel(prop)) + '" spellcheck="false"') + ">";
  }).join("");
}
function opId(method, path, op) {
  return op.operationId ? "op-" + op.operationId.replace(/[^\w-]/g, "_") : method + path.replace(/[^\w]+/g, "-").replace(/-$/, "");
}
function paramsOf(item, op) {
  const byKey = new Map();
  for (const p of [...(item.parameters || []), ...(op.parameters || [])].map(deref)) byKey.set(p.in + ":" + p.name, p);
  return [...byKey.values()];
}
function renderOp(entry) {
  const { id, path, method, op, params, tag } = entry;
  const body = op.requestBody ? deref(op.requestBody) : null;
  const json = body && media(body.content);
  entry.mediaType = json && json.type;
  const security = op.security || spec.security;
  const auth = security && security.length
    ? security.map((req) => Object.keys(req).map((n) => "<code title=\"" + esc((schemes()[n] || {}).description) + "\">" + esc(n) + "</code>").join(" + ") || "none").join(" or ")
    : "none";
  const paramRows = params.map((p) => "<tr><td><code>" + esc(p.name) + "</code>" + (p.required ? ' <span class=req title="required">*</span>' : "") + "</td><td>" + esc(p.in) +
    "</td><td class=type>" + esc(typeLabel(p.schema)) + "</td><td>" + md(p.description || deref(p.schema).description) + constraints(deref(p.schema)) + "</td></tr>").join("");
  const responses = Object.entries(op.responses || {}).map(([code, r]) => {
    r = deref(r);
    const content = media(r.content);
    const head = '<b class="' + (code[0] === "2" || code[0] === "3" ? "ok" : "bad") + '">' + esc(code) + "</b> " + md(r.description);
    const headers = r.headers ? '<div class="muted">Headers: ' + Object.keys(r.headers).map(esc).join(", ") + "</div>" : "";
    return content && content.schema
      ? '<details class="resp"' + (code[0] === "2" ? " open" : "") + "><summary>" + head + "</summary>" + headers + schemaView(content.schema) + "</details>"
      : "<div>" + head + headers + "</div>";
  }).join("");
  const inputs = params.filter((p) => ["path", "query", "header"].includes(p.in)).map((p) => {
    const s = deref(p.schema);
    const ex = p.example ?? s.example ?? s.default;
    return "<label>" + esc(p.name) + (p.required ? " *" : "") + ' <span class="muted">' + esc(p.in) + "</span></label>" +
      (s.enum ? '<select data-in="' + esc(p.in) + '" data-name="' + esc(p.name) + '">' + (p.required ? "" : "<option></option>") + s.enum.map((v) => "<option>" + esc(v) + "</option>").join("") + "</select>"
        : '<input data-in="' + esc(p.in) + '" data-name="' + esc(p.name) + '" placeholder="' + esc(ex ?? typeLabel(p.schema)) + '" spellcheck="false">');
  }).join("");
  return '<section class="op" id="' + esc(id) + '"><h2><span class="m ' + esc(method) + '">' + esc(method.toUpperCase()) + "</span><code>" + esc(path) + '</code><span class="tag">' + esc(tag) + "</span>" +
    (op.deprecated ? ' <span class="tag">deprecated</span>' : "") + "</h2>" +
    (op.summary ? "<p><b>" + md(op.summary) + "</b></p>" : "") + (op.description ? "<p>" + md(op.description) + "</p>" : "") +
    "<p>Auth: " + auth + "</p>" +
    (params.length ? "<h4>Parameters</h4><table><tr><th>name</th><th>in</th><th>type</th><th>description</th></tr>" + paramRows + "</table>" : "") +
    (json ? "<h4>Request body" + (body.required ? "" : ' <span class="muted">(optional)</span>') + ' <span class="muted">' + esc(json.type) + "</span></h4>" + schemaView(json.schema) : "") +
    "<h4>Responses</h4>" + responses +
    '<details class="try"><summary>Try it</summary><form data-op="' + esc(id) + '"><div class="fields">' + inputs + authSelect(op) +
    (json && isForm(json.type) ? bodyEditor(json) : "") + "</div>" + (json && !isForm(json.type) ? bodyEditor(json) : "") +
    '<button type="submit">Send</button> <span class="muted">' + esc(method.toUpperCase() + " " + path) + '</span><pre class="out" hidden></pre></form></details></section>';
}

// ---- Try it ----
const ops = new Map();
async function send(form) {
  const entry = ops.get(form.dataset.op);
  const out = form.querySelector(".out");
  out.hidden = false;
  const headers = { "Accept-Language": $("lang").value };
  const query = new URLSearchParams();
  const missing = [];
  const values = {};
  form.querySelectorAll("[data-in]").forEach((el) => {
    const value = el.value.trim();
    const { in: where, name } = el.dataset;
    values[where + ":" + name] = value;
    if (where === "path") store.set("param." + name, value);
    if (!value) { if (entry.params.some((p) => p.in === where && p.name === name && p.required)) missing.push(name); return; }
    if (where === "query") query.append(name, value);
    if (where === "header") headers[name] = value;
  });
  if (missing.length) { out.innerHTML = '<span class="bad">Fill in ' + missing.map(esc).join(", ") + ".</span>"; return; }

  // Credentials: the chosen security alternative; cookies only travel when it is a cookie scheme
  // (or the operation needs no auth, so that sign-in can set its cookie).
  const select = form.querySelector("[data-auth]");
  const names = select && select.value !== "none" ? authOptions(entry.op).options[+select.value] : [];
  let withCookies = !select;
  for (const name of names) {
    const scheme = schemes()[name] || {};
    const value = credential(name);
    if (isCookie(name)) withCookies = true;
    else if (!value) { out.innerHTML = '<span class="bad">Enter a value for ' + esc(name) + " at the top of the page.</span>"; return; }
    else if (scheme.type === "http") headers.Authorization = (scheme.scheme || "bearer").toLowerCase() === "basic" ? "Basic " + value : "Bearer " + value;
    else if (scheme.type === "apiKey" && scheme.in === "header") headers[scheme.name] = value;
    else if (scheme.type === "apiKey" && scheme.in === "query") query.set(scheme.name, value);
  }
  let url = entry.path.replace(/\{([^}]+)\}/g, (_, name) => encodeURIComponent(values["path:" + name]));
  if ([...query].length) url += "?" + query;
  let body;
  const textarea = form.querySelector("textarea");
  if (textarea && textarea.value.trim()) { body = textarea.value; headers["Content-Type"] = entry.mediaType; }
  if (isForm(entry.mediaType)) {
    // For multipart the browser writes Content-Type itself, with the boundary.
    body = entry.mediaType === "multipart/form-data" ? new FormData() : new URLSearchParams();
    form.querySelectorAll("[data-part]").forEach((el) => {
      if (el.type === "file") { if (el.files[0]) body.append(el.dataset.part, el.files[0]); }
      else if (el.value) body.append(el.dataset.part, el.value);
    });
  }

  const line = esc(entry.method.toUpperCase() + " " + url);
  out.innerHTML = line + "\n…";
  if (form.pending) form.pending.abort();
  const controller = (form.pending = new AbortController());
  const started = performance.now();
  let res;
  try {
    res = await fetch(url, { method: entry.method.toUpperCase(), headers, body, credentials: withCookies ? "same-origin" : "omit", signal: controller.signal });
  } catch (error) {
    if (!controller.signal.aborted) out.innerHTML = line + '\n<span class="bad">Request failed: ' + esc(error.message) + "</span>";
    return;
  }
  const shown = ["RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "Retry-After", "Allow", "Location", "X-Request-Id", "Content-Type"]
    .filter((h) => res.headers.has(h)).map((h) => h + ": " + res.headers.get(h)).join("\n");
  const head = line + "\n" + '<span class="status ' + (res.ok ? "ok" : "bad") + '">' + res.status + " " + esc(res.statusText) + "</span> · " +
    Math.round(performance.now() - started) + " ms\n" + esc(shown) + "\n\n";
  // Read the body as it arrives, so that an event stream shows its events live.
  let text = "";
  try {
    const reader = res.body ? res.body.getReader() : null;
    const decoder = new TextDecoder();
    for (let chunk; reader && !(chunk = await reader.read()).done; ) {
      text += decoder.decode(chunk.value, { stream: true });
      out.innerHTML = head + esc(text);
    }
  } catch (error) {
    text += "\n[" + error.message + "]";
  }
  if (controller.signal.aborted) return; // superseded by a newer request from this form
  form.pending = null;
  let parsed = null;
  try { parsed = JSON.parse(text); } catch {}
  out.innerHTML = head + esc(parsed !== null ? JSON.stringify(parsed, null, 2) : text || "(empty body)");

  // A sign-in (or sign-up) hands back a session token: use it for the following requests.
  if (res.ok && parsed && typeof parsed.token === "string") {
    const jwt = Object.entries(schemes()).find(([, s]) => s.type === "http" && s.bearerFormat === "JWT");
    if (jwt) { setCredential(jwt[0], parsed.token); out.innerHTML += '\n\n<span class="ok">Token saved to ' + esc(jwt[0]) + ".</span>"; }
  }
}

function fillRemembered(form) {
  form.querySelectorAll('[data-in="path"]').forEach((el) => { if (!el.value) el.value = store.get("param." + el.dataset.name); });
}

async function main() {
  let res;
  try {
    res = await fetch(SPEC_URL, { credentials: "omit" });
    spec = await res.json();
    if (!res.ok || !spec.paths) throw new Error(spec.error || res.status + " " + res.statusText);
  } catch (error) {
    $("nav").textContent = "";
    $("ops").innerHTML = '<p class="error">Could not load ' + esc(SPEC_URL) + (res ? " (" + res.status + ")" : "") + ": " + esc(error.message) + ". Reload the page to try again.</p>";
    return;
  }
  renderAuth();
  const byTag = {};
  const tagOrder = (spec.tags || []).map((t) => t.name);
  for (const [path, item] of Object.entries(spec.paths)) {
    for (const method of ["get", "put", "post", "patch", "delete", "head", "options", "trace"]) {
      const op = item[method];
      if (!op) continue;
      const tag = (op.tags && op.tags[0]) || "Other";
      const entry = { id: opId(method, path, op), path, method, op, tag, params: paramsOf(item, op) };
      ops.set(entry.id, entry);
      (byTag[tag] ||= []).push(entry);
      if (!tagOrder.includes(tag)) tagOrder.push(tag);
    }
  }
  const info = spec.info || {};
  const nav = [], html = ["<h1>" + esc(info.title) + ' <small class="muted">' + esc(info.version) + "</small></h1>" +
    (info.description ? "<p>" + md(info.description) + "</p>" : "") +
    '<p><a href="' + esc(SPEC_URL) + '">' + esc(SPEC_URL) + "</a> · Sign in with <code>POST /api/auth/sign-in/email</code> under “Try it”: the token is filled in above and sent with later requests.</p>"];
  for (const tag of tagOrder) {
    const list = byTag[tag];
    if (!list) continue;
    const description = ((spec.tags || []).find((t) => t.name === tag) || {}).description;
    nav.push('<div class="group"><h3>' + esc(tag) + "</h3>" + list.map((e) =>
      '<a href="#' + esc(e.id) + '" data-search="' + esc((e.method + " " + e.path + " " + (e.op.summary || "") + " " + tag).toLowerCase()) + '"><span class="m ' + esc(e.method) + '">' + esc(e.method.toUpperCase()) + "</span><span>" + esc(e.path).replace(/\//g, "/<wbr>") + "</span></a>").join("") + "</div>");
    html.push('<h2 class="tagh">' + esc(tag) + "</h2>" + (description ? "<p>" + md(description) + "</p>" : "") + list.map(renderOp).join(""));
  }
  $("nav").innerHTML = nav.join("");
  $("ops").innerHTML = html.join("");
  $("ops").addEventListener("submit", (e) => { e.preventDefault(); send(e.target); });
  $("ops").addEventListener("change", (e) => { if (e.target.dataset.auth !== undefined) e.target.dataset.touched = "1"; });
  $("ops").addEventListener("toggle", (e) => { if (e.target.open && e.target.classList.contains("try")) fillRemembered(e.target.querySelector("form")); }, true);
  $("filter").addEventListener("input", (e) => {
    const q = e.target.value.trim().toLowerCase();
    document.querySelectorAll("#nav .group").forEach((g) => {
      let visible = 0;
      g.querySelectorAll("a").forEach((a) => { const show = a.dataset.search.includes(q); a.hidden = !show; visible += show; });
      g.hidden = !visible;
    });
  });
  if (location.hash) { const target = document.getElementById(decodeURIComponent(location.hash.slice(1))); if (target) target.scrollIntoView(); }
}
main();
`;

import "server-only";
import { ENDPOINT_LIST, RESOURCES, type Endpoint } from "./endpoints";
import { TOKEN_RATE_DOC } from "./limits";
import { operationOf } from "./openapi";

// The API reference page (/api/v1/docs): plain server-rendered HTML from the
// endpoint table, with inline styles only (no CDN, no script).

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

interface Parameter {
  name: string;
  in: string;
  required: boolean;
  description?: string;
  schema: Record<string, unknown>;
}

function typeOf(schema: Record<string, unknown>): string {
  if (Array.isArray(schema.enum)) return (schema.enum as unknown[]).map(String).join(" | ");
  if (Array.isArray(schema.anyOf)) return (schema.anyOf as Record<string, unknown>[]).map(typeOf).join(" or ");
  if (schema.type === "array") {
    const item = typeOf((schema.items ?? {}) as Record<string, unknown>);
    return item.includes(" or ") || item.includes(" | ") ? `(${item})[]` : `${item}[]`;
  }
  if (schema.type === "object" && schema.properties) return `object {${Object.keys(schema.properties).join(", ")}}`;
  if (Array.isArray(schema.oneOf)) return (schema.oneOf as Record<string, unknown>[]).map(typeOf).join(" or ");
  const base = typeof schema.type === "string" ? schema.type : "value";
  const bits: string[] = [];
  if (schema.default !== undefined) bits.push(`default ${JSON.stringify(schema.default)}`);
  if (schema.minimum !== undefined || schema.maximum !== undefined) bits.push(`${schema.minimum ?? "…"}–${schema.maximum ?? "…"}`);
  if (typeof schema.format === "string") bits.push(schema.format);
  return bits.length ? `${base} (${bits.join(", ")})` : base;
}

function curlOf(ep: Endpoint): string {
  const path = ep.path.replace(/\{(\w+)\}/g, (_m, name: string) => (name === "action" ? "stop" : `$${name.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`));
  const url = `"$BERTH_URL/api/v1${path}${ep.example?.query ? `?${ep.example.query}` : ""}"`;
  const lines = [`curl${ep.method === "GET" ? "" : ` -X ${ep.method}`} ${url}`];
  if (ep.permission !== "public") lines.push(`  -H "Authorization: Bearer $BERTH_TOKEN"`);
  if (ep.body) {
    lines.push(`  -H "Content-Type: application/json"`);
    lines.push(`  -d '${JSON.stringify(ep.example?.body ?? {})}'`);
  }
  return lines.join(" \\\n");
}

/** The body's top-level fields; nested shapes are in openapi.json. */
function bodyHtml(ep: Endpoint, requestBody: { content: { "application/json": { schema: Record<string, unknown> } } }): string {
  const schema = requestBody.content["application/json"].schema;
  const required = new Set((schema.required as string[] | undefined) ?? []);
  const fields = Object.entries((schema.properties ?? {}) as Record<string, Record<string, unknown>>)
    .map(([name, f]) => `<tr><td><code>${esc(name)}</code></td><td>${required.has(name) ? "required" : ""}</td><td>${esc(typeOf(f))}</td><td>${esc(typeof f.description === "string" ? f.description : "")}</td></tr>`)
    .join("");
  return `<p>Body: JSON${schema.additionalProperties === false ? " (unknown fields are refused)" : ""}; full schema under <code>${esc(ep.id)}</code> in <a href="/api/v1/openapi.json">openapi.json</a>.</p>
<table><thead><tr><th>Field</th><th></th><th>Type</th><th></th></tr></thead><tbody>${fields}</tbody></table>`;
}

function endpointHtml(ep: Endpoint): string {
  const op = operationOf(ep, {});
  const params = op.parameters as Parameter[];
  const rows = params
    .map((p) => `<tr><td><code>${esc(p.name)}</code></td><td>${p.in}${p.required ? ", required" : ""}</td><td>${esc(typeOf(p.schema))}</td><td>${esc(p.description ?? "")}</td></tr>`)
    .join("");
  const answers = ep.answers.map((a) => `${a.status} ${Object.keys(a.content).join(", ")}: ${esc(a.description)}`).join("<br>");
  const errors = Object.keys(op.responses).filter((s) => Number(s) >= 400).join(", ");
  return `<section class="ep" id="${esc(ep.id)}">
<h3><span class="m m-${ep.method.toLowerCase()}">${ep.method}</span> <code>/api/v1${esc(ep.path)}</code></h3>
<p>${esc(ep.summary)}.${ep.description ? ` ${esc(ep.description)}` : ""}</p>
<p class="perm">${ep.permission === "public" ? "Public: no token needed." : ep.permission ? `Permission: <code>${esc(ep.permission)}</code>` : "Any valid token."}${ep.mutation ? " · Audited whatever the outcome." : ep.permission === "public" ? "" : " · Audited when denied."}</p>
${rows ? `<table><thead><tr><th>Parameter</th><th>In</th><th>Type</th><th></th></tr></thead><tbody>${rows}</tbody></table>` : ""}
${ep.body ? bodyHtml(ep, op.requestBody as { content: { "application/json": { schema: Record<string, unknown> } } }) : ""}
<p>Answers: ${answers || "—"}${errors ? `<br>Errors: ${errors}` : ""}</p>
<pre>${esc(curlOf(ep))}</pre>
</section>`;
}

export function renderReference(): string {
  const groups = RESOURCES.map((resource) => {
    const eps = ENDPOINT_LIST.filter((e) => e.resource === resource);
    return `<h2 id="${resource.toLowerCase()}">${resource}</h2>${eps.map(endpointHtml).join("\n")}`;
  }).join("\n");
  const toc = RESOURCES.map((r) => `<a href="#${r.toLowerCase()}">${r}</a>`).join(" · ");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Berth REST API</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;margin:0 auto;max-width:980px;padding:24px;color:#18181b;background:#fafafa}
code,pre{font-family:ui-monospace,monospace;font-size:13px}
pre{background:#18181b;color:#f4f4f5;padding:10px 12px;border-radius:6px;overflow-x:auto}
.ep{background:#fff;border:1px solid #e4e4e7;border-radius:8px;padding:4px 16px 8px;margin:12px 0}
.m{display:inline-block;min-width:56px;text-align:center;border-radius:4px;color:#fff;font-size:12px;padding:2px 6px}
.m-get{background:#2563eb}.m-post{background:#16a34a}.m-delete{background:#dc2626}
table{border-collapse:collapse;width:100%;font-size:14px}td,th{border-bottom:1px solid #e4e4e7;padding:4px 6px;text-align:left;vertical-align:top}
.perm{color:#52525b}
</style></head><body>
<h1>Berth REST API</h1>
<p>Base URL <code>/api/v1</code>. Send a personal API token (Settings → API tokens) as <code>Authorization: Bearer berth_…</code>.
A token does at most what its owner may do now, narrowed to its permissions and hosts. Each token may send ${TOKEN_RATE_DOC}; beyond that the answer is 429 with <code>Retry-After</code>.
Errors are <code>{"error":{"code","message","requestId"}}</code>; every mutation and every denial is in the audit log with the token as the actor.
Machine-readable: <a href="/api/v1/openapi.json">openapi.json</a> (OpenAPI 3.1).</p>
<p>${toc}</p>
${groups}
</body></html>`;
}

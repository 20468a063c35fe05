// The tenant: API keys (create — the secret is shown once — and revoke), quotas against
// current usage, and for admins the list of tenants.

import { useState } from "preact/hooks";
import { get, request } from "../api.ts";
import { Confirm, CopyAs, CopyButton, Empty, ErrorBox, Meter, Show, useAsync } from "../components/ui.tsx";
import { formatBytes, formatNumber, formatRate, formatTimestamp, plural, quotaShare } from "../lib/format.ts";
import { isAdmin } from "../lib/session.ts";
import type { Call } from "../lib/snippets.ts";
import type { ApiKey, CreatedKey, Quotas, Tenant, Usage } from "../lib/types.ts";
import { useSession } from "../session.tsx";

const SCOPE_PRESETS: [string, string][] = [
  ["read topics", "topics:read groups:read"],
  ["produce", "topics:write"],
  ["consume", "topics:read groups:read groups:write"],
  ["topic admin", "topics:admin topics:read topics:write groups:read groups:write"],
  ["key admin", "keys:admin"],
];

function t(tenant: string): string {
  return `/v1/tenants/${encodeURIComponent(tenant)}`;
}

export function createKeyCall(tenant: string, name: string, scopes: string[], expiresAt: number | null): Call {
  const body: Record<string, unknown> = { name, scopes };
  if (expiresAt !== null) body.expires_at = expiresAt;
  return { method: "POST", path: `${t(tenant)}/keys`, body };
}

export function revokeKeyCall(tenant: string, id: string): Call {
  return { method: "DELETE", path: `${t(tenant)}/keys/${encodeURIComponent(id)}` };
}

function Keys({ tenant }: { tenant: string }) {
  const keys = useAsync(() => get<{ keys: ApiKey[] }>(`${t(tenant)}/keys`), [tenant]);
  const [name, setName] = useState("");
  const [scopes, setScopes] = useState("topics:read");
  const [expires, setExpires] = useState("");
  const [created, setCreated] = useState<CreatedKey | null>(null);
  const [error, setError] = useState<unknown>(undefined);
  const [revoking, setRevoking] = useState<ApiKey | null>(null);
  const scopeList = scopes.split(/[\s,]+/).filter(Boolean);
  const expiresAt = expires ? Date.parse(`${expires}T00:00:00Z`) : null;
  const call = () => createKeyCall(tenant, name.trim(), scopeList, expiresAt);
  return (
    <section aria-labelledby="keys-title">
      <h2 id="keys-title">API keys</h2>
      <form
        class="card"
        aria-label="Create an API key"
        onSubmit={async (e) => {
          e.preventDefault();
          setError(undefined);
          setCreated(null);
          try {
            setCreated(await request<CreatedKey>(call()));
            setName("");
            keys.reload();
          } catch (err) {
            setError(err);
          }
        }}
      >
        <div class="row wrap">
          <label>
            Name
            <input name="key-name" required value={name} onInput={(e) => setName(e.currentTarget.value)} placeholder="orders-service" />
          </label>
          <label class="grow">
            Scopes (space separated)
            <input name="key-scopes" value={scopes} onInput={(e) => setScopes(e.currentTarget.value)} />
          </label>
          <label>
            Expires (UTC, optional)
            <input name="key-expires" type="date" value={expires} onInput={(e) => setExpires(e.currentTarget.value)} />
          </label>
        </div>
        <div class="row wrap">
          <span class="hint">Presets:</span>
          {SCOPE_PRESETS.map(([label, s]) => (
            <button type="button" class="small" onClick={() => setScopes(s)}>
              {label}
            </button>
          ))}
        </div>
        <p class="hint">
          Scopes: <code>admin</code>, <code>keys:admin</code>, <code>topics:read|write|admin[:name|prefix*]</code>,{" "}
          <code>groups:read|write[:name|prefix*]</code>. A key never gets more than its creator holds.
        </p>
        <div class="row wrap">
          <button type="submit" class="primary" disabled={!name.trim() || scopeList.length === 0}>
            Create key
          </button>
          <CopyAs call={call} />
        </div>
        <ErrorBox error={error} />
      </form>
      {created ? (
        <div class="card secret" role="status" data-testid="new-key">
          <h3>Key “{created.name}” created</h3>
          <p>
            <strong>Copy it now: it is shown only this once.</strong> The server keeps only a hash.
          </p>
          <div class="row wrap">
            <code class="secret-value" data-testid="new-key-secret">
              {created.key}
            </code>
            <CopyButton text={() => created.key} label="Copy key" />
            <button type="button" class="small" onClick={() => setCreated(null)}>
              Done, hide it
            </button>
          </div>
        </div>
      ) : null}
      <Show a={keys} what="keys">
        {(k) =>
          k.keys.length === 0 ? (
            <Empty>No keys.</Empty>
          ) : (
            <div class="table-wrap">
              <table class="keys">
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">Id</th>
                    <th scope="col">Scopes</th>
                    <th scope="col">Created</th>
                    <th scope="col">Expires</th>
                    <th scope="col">State</th>
                    <th scope="col">
                      <span class="sr-only">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {k.keys.map((key) => {
                    const expired = !!key.expires_at && key.expires_at < Date.now();
                    return (
                      <tr data-key-id={key.id} data-key-name={key.name}>
                        <td>{key.name}</td>
                        <td class="mono small-text">{key.id}</td>
                        <td>{key.scopes.join(" ")}</td>
                        <td class="nowrap" title={`by ${key.created_by}`}>
                          {formatTimestamp(key.created_at).slice(0, 16)}
                        </td>
                        <td class="nowrap">{key.expires_at ? formatTimestamp(key.expires_at).slice(0, 10) : "never"}</td>
                        <td data-testid="key-state">
                          {key.revoked_at ? (
                            <span class="badge bad">revoked</span>
                          ) : expired ? (
                            <span class="badge bad">expired</span>
                          ) : (
                            <span class="badge ok">active</span>
                          )}
                        </td>
                        <td class="actions">
                          {key.revoked_at ? null : (
                            <button type="button" class="small danger" aria-label={`Revoke key ${key.name}`} onClick={() => setRevoking(key)}>
                              Revoke
                            </button>
                          )}
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </div>
          )
        }
      </Show>
      <Confirm
        open={revoking !== null}
        title={`Revoke key ${revoking?.name ?? ""}?`}
        confirmLabel="Revoke key"
        danger
        onCancel={() => setRevoking(null)}
        onConfirm={async () => {
          const key = revoking!;
          setRevoking(null);
          try {
            await request(revokeKeyCall(tenant, key.id));
            keys.reload();
          } catch (e) {
            setError(e);
          }
        }}
      >
        <p>
          Requests with this key fail from now on. Tokens already made from it stay valid until they expire (at most the
          server's token lifetime).
        </p>
        {revoking ? <CopyAs call={() => revokeKeyCall(tenant, revoking.id)} /> : null}
      </Confirm>
    </section>
  );
}

const QUOTA_ROWS: { key: keyof Quotas & keyof Usage; label: string; kind: "rate" | "bytes" | "count" }[] = [
  { key: "storage_bytes", label: "Storage", kind: "bytes" },
  { key: "topics", label: "Topics", kind: "count" },
  { key: "partitions", label: "Partitions", kind: "count" },
  { key: "groups", label: "Consumer groups", kind: "count" },
  { key: "produce_bytes_per_sec", label: "Produce bytes/s", kind: "rate" },
  { key: "fetch_bytes_per_sec", label: "Fetch bytes/s", kind: "rate" },
  { key: "requests_per_sec", label: "Requests/s", kind: "count" },
];

function show(kind: "rate" | "bytes" | "count", v: number): string {
  return kind === "rate" ? formatRate(v, "bytes") : kind === "bytes" ? formatBytes(v) : formatNumber(v);
}

function QuotasView({ tenant, admin }: { tenant: string; admin: boolean }) {
  const usage = useAsync(() => get<Usage>(`${t(tenant)}/usage`), [tenant]);
  const [edit, setEdit] = useState<Record<string, string>>({});
  const [error, setError] = useState<unknown>(undefined);
  const change: Record<string, number> = {};
  for (const [k, v] of Object.entries(edit)) if (v.trim() !== "" && Number.isInteger(Number(v))) change[k] = Number(v);
  const call = (): Call => ({ method: "PUT", path: `${t(tenant)}/quotas`, body: change });
  return (
    <section aria-labelledby="quotas-title">
      <div class="row wrap center">
        <h2 id="quotas-title">Quotas and usage</h2>
        <button type="button" class="small" onClick={usage.reload}>
          Refresh
        </button>
      </div>
      <Show a={usage} what="usage">
        {(u) => (
          <form
            onSubmit={async (e) => {
              e.preventDefault();
              setError(undefined);
              try {
                await request(call());
                setEdit({});
                usage.reload();
              } catch (err) {
                setError(err);
              }
            }}
          >
            <div class="table-wrap">
              <table class="quotas">
                <thead>
                  <tr>
                    <th scope="col">Quota</th>
                    <th scope="col" class="num">Used now</th>
                    <th scope="col" class="num">Quota (0 = unlimited)</th>
                    <th scope="col">Share</th>
                    {admin ? <th scope="col">New value</th> : null}
                  </tr>
                </thead>
                <tbody>
                  {QUOTA_ROWS.map((r) => (
                    <tr data-quota={r.key}>
                      <td>{r.label}</td>
                      <td class="num">{show(r.kind, u[r.key])}</td>
                      <td class="num">{u.quotas[r.key] ? show(r.kind, u.quotas[r.key]) : "unlimited"}</td>
                      <td>
                        <Meter share={quotaShare(u[r.key], u.quotas[r.key])} label={`${r.label} used of quota`} />
                      </td>
                      {admin ? (
                        <td>
                          <input
                            aria-label={`New ${r.label} quota`}
                            inputMode="numeric"
                            value={edit[r.key] ?? ""}
                            placeholder={String(u.quotas[r.key])}
                            onInput={(e) => setEdit({ ...edit, [r.key]: e.currentTarget.value })}
                          />
                        </td>
                      ) : null}
                    </tr>
                  ))}
                  <tr>
                    <td>Largest record / request</td>
                    <td class="num">—</td>
                    <td class="num">
                      {u.quotas.record_bytes_max ? formatBytes(u.quotas.record_bytes_max) : "server limit"} /{" "}
                      {u.quotas.request_bytes_max ? formatBytes(u.quotas.request_bytes_max) : "server limit"}
                    </td>
                    <td />
                    {admin ? <td /> : null}
                  </tr>
                  <tr data-quota="live_tails">
                    <td>Live tails open at once</td>
                    <td class="num">—</td>
                    <td class="num">{u.quotas.live_tails ? formatNumber(u.quotas.live_tails) : "server limit"}</td>
                    <td />
                    {admin ? <td /> : null}
                  </tr>
                </tbody>
              </table>
            </div>
            <p class="hint">
              Throttled: {plural(u.throttled_requests_total, "request")} refused, {formatNumber(u.throttle_time_ms_total)} ms
              held since the server started.
            </p>
            {admin ? (
              <div class="row wrap">
                <button type="submit" class="primary" disabled={Object.keys(change).length === 0}>
                  Save quotas
                </button>
                <CopyAs call={call} />
              </div>
            ) : null}
            <ErrorBox error={error} />
          </form>
        )}
      </Show>
    </section>
  );
}

function Tenants() {
  const { session, setTenant } = useSession();
  const list = useAsync(() => get<{ tenants: Tenant[] }>("/v1/admin/tenants"), []);
  const [name, setName] = useState("");
  const [error, setError] = useState<unknown>(undefined);
  const [deleting, setDeleting] = useState<string | null>(null);
  const createCall = (): Call => ({ method: "POST", path: "/v1/admin/tenants", body: { name: name.trim() } });
  const deleteCall = (n: string): Call => ({ method: "DELETE", path: `/v1/admin/tenants/${encodeURIComponent(n)}` });
  return (
    <section aria-labelledby="tenants-title">
      <h2 id="tenants-title">Tenants (admin)</h2>
      <form
        class="card"
        aria-label="Create a tenant"
        onSubmit={async (e) => {
          e.preventDefault();
          setError(undefined);
          try {
            await request(createCall());
            setName("");
            list.reload();
          } catch (err) {
            setError(err);
          }
        }}
      >
        <div class="row wrap">
          <label>
            New tenant
            <input name="tenant-name" value={name} pattern="[a-z0-9][a-z0-9\-]{0,62}" onInput={(e) => setName(e.currentTarget.value)} />
          </label>
          <button type="submit" disabled={!name.trim()}>
            Create tenant
          </button>
          <CopyAs call={createCall} />
        </div>
        <ErrorBox error={error} />
      </form>
      <Show a={list} what="tenants">
        {(l) => (
          <div class="table-wrap">
            <table class="tenants">
              <thead>
                <tr>
                  <th scope="col">Tenant</th>
                  <th scope="col" class="num">Keys</th>
                  <th scope="col" class="num">Topics</th>
                  <th scope="col" class="num">Storage</th>
                  <th scope="col" class="num">Groups</th>
                  <th scope="col">
                    <span class="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {l.tenants.map((x) => (
                  <tr data-tenant={x.name}>
                    <td>
                      {x.name}
                      {x.name === session.tenant ? <span class="badge">shown</span> : null}
                    </td>
                    <td class="num">{x.keys}</td>
                    <td class="num">{x.usage.topics}</td>
                    <td class="num">{formatBytes(x.usage.storage_bytes)}</td>
                    <td class="num">{x.usage.groups}</td>
                    <td class="actions">
                      {x.name !== session.tenant ? (
                        <button type="button" class="small" onClick={() => setTenant(x.name)}>
                          Show
                        </button>
                      ) : null}
                      <button type="button" class="small danger" aria-label={`Delete tenant ${x.name}`} onClick={() => setDeleting(x.name)}>
                        Delete
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Show>
      <Confirm
        open={deleting !== null}
        title={`Delete tenant ${deleting ?? ""}?`}
        confirmLabel="Delete tenant"
        danger
        requireText={deleting ?? ""}
        onCancel={() => setDeleting(null)}
        onConfirm={async () => {
          const n = deleting!;
          setDeleting(null);
          try {
            await request(deleteCall(n));
            list.reload();
          } catch (e) {
            setError(e);
          }
        }}
      >
        <p>The server refuses while the tenant still has topics or keys.</p>
      </Confirm>
    </section>
  );
}

export function TenantPage() {
  const { session } = useSession();
  const admin = isAdmin(session.identity);
  return (
    <div class="page">
      <h1>Tenant {session.tenant}</h1>
      <p class="hint">
        Signed in as <code>{session.identity.subject || "anonymous"}</code> of tenant <code>{session.identity.tenant}</code> with
        scopes <code>{session.identity.scopes.join(" ") || "none"}</code>.
      </p>
      <Keys tenant={session.tenant} />
      <QuotasView tenant={session.tenant} admin={admin} />
      {admin ? <Tenants /> : null}
    </div>
  );
}

// One consumer group: members and their assignment, per-partition committed offset, high
// watermark and lag with a lag chart built from polling, and an offset reset with a dry-run
// preview first.

import { useState } from "preact/hooks";
import { request } from "../api.ts";
import { Chart, type Point } from "../components/chart.tsx";
import { Confirm, CopyAs, Empty, ErrorBox, Loading, useInterval } from "../components/ui.tsx";
import { formatNumber, parseTimestamp, plural } from "../lib/format.ts";
import { describeLag, lagSummary } from "../lib/lag.ts";
import type { Call } from "../lib/snippets.ts";
import type { GroupDetail, ResetRequest, ResetResponse, ResetTo, TopicPartitions } from "../lib/types.ts";
import { href, navigate, onLink } from "../router.ts";
import { useSession } from "../session.tsx";

const POLL_MS = 2000;
const POINTS = 120;

function groupPath(tenant: string, group: string): string {
  return `/v1/tenants/${encodeURIComponent(tenant)}/groups/${encodeURIComponent(group)}`;
}

export function resetCall(tenant: string, group: string, req: ResetRequest): Call {
  return { method: "POST", path: `${groupPath(tenant, group)}/offsets:reset`, body: req };
}

function assignment(list: TopicPartitions[]): string {
  return list.map((t) => `${t.topic}[${t.partitions.join(",")}]`).join(" ") || "—";
}

function Reset({ tenant, detail, onDone }: { tenant: string; detail: GroupDetail; onDone: () => void }) {
  const topics = [...new Set(detail.partitions.map((p) => p.topic))];
  const [to, setTo] = useState<ResetTo>("earliest");
  const [value, setValue] = useState("");
  const [chosen, setChosen] = useState<string[]>([]);
  const [preview, setPreview] = useState<ResetResponse | null>(null);
  const [applied, setApplied] = useState<ResetResponse | null>(null);
  const [error, setError] = useState<unknown>(undefined);
  const [confirm, setConfirm] = useState(false);

  const build = (dryRun: boolean): ResetRequest | null => {
    const req: ResetRequest = { to, dry_run: dryRun };
    if (chosen.length) req.topics = chosen;
    if (to === "offset" || to === "shift") {
      const n = Number(value);
      if (value.trim() === "" || !Number.isInteger(n)) return null;
      if (to === "offset") req.offset = n;
      else req.shift = n;
    }
    if (to === "timestamp") {
      const ms = parseTimestamp(value);
      if (ms === null) return null;
      req.timestamp = ms;
    }
    return req;
  };
  const req = build(true);
  const run = async (dryRun: boolean) => {
    const r = build(dryRun);
    if (!r) return;
    setError(undefined);
    try {
      const resp = await request<ResetResponse>(resetCall(tenant, detail.group, r));
      if (dryRun) setPreview(resp);
      else {
        setApplied(resp);
        setPreview(null);
        onDone();
      }
    } catch (e) {
      setError(e);
    }
  };
  const shown = preview ?? applied;
  return (
    <form
      class="card"
      aria-label="Reset offsets"
      onSubmit={(e) => {
        e.preventDefault();
        void run(true);
      }}
    >
      <h2>Reset offsets</h2>
      <p class="hint">The group must have no live members. Preview first: nothing changes until you apply.</p>
      <div class="row wrap">
        <label>
          Move to
          <select
            name="reset-to"
            value={to}
            onChange={(e) => {
              setTo(e.currentTarget.value as ResetTo);
              setPreview(null);
            }}
          >
            <option value="earliest">earliest</option>
            <option value="latest">latest</option>
            <option value="timestamp">timestamp</option>
            <option value="offset">offset</option>
            <option value="shift">shift by</option>
          </select>
        </label>
        {to === "offset" || to === "shift" || to === "timestamp" ? (
          <label>
            {to === "timestamp" ? "Time (UTC) or ms" : to === "shift" ? "Records (negative: back)" : "Offset"}
            <input
              name="reset-value"
              value={value}
              aria-invalid={!req}
              onInput={(e) => {
                setValue(e.currentTarget.value);
                setPreview(null);
              }}
            />
          </label>
        ) : null}
        {topics.length > 1 ? (
          <fieldset class="inline">
            <legend>Topics (none ticked: all)</legend>
            {topics.map((t) => (
              <label class="check">
                <input
                  type="checkbox"
                  checked={chosen.includes(t)}
                  onChange={(e) => {
                    setChosen(e.currentTarget.checked ? [...chosen, t] : chosen.filter((x) => x !== t));
                    setPreview(null);
                  }}
                />
                {t}
              </label>
            ))}
          </fieldset>
        ) : null}
        <button type="submit" disabled={!req}>
          Preview (dry run)
        </button>
        <button type="button" class="danger" disabled={!preview} onClick={() => setConfirm(true)}>
          Apply reset
        </button>
        {req ? <CopyAs call={() => resetCall(tenant, detail.group, req)} /> : null}
      </div>
      <ErrorBox error={error} />
      {shown ? (
        <div class="table-wrap">
          <p role="status" class={applied && !preview ? "success" : "hint"}>
            {preview ? "Preview: nothing was written." : "Applied."}
          </p>
          {shown.offsets.length === 0 ? (
            <Empty>No partitions to reset.</Empty>
          ) : (
            <table class="reset-preview">
              <thead>
                <tr>
                  <th scope="col">Topic</th>
                  <th scope="col" class="num">Partition</th>
                  <th scope="col" class="num">Committed now</th>
                  <th scope="col" class="num">After reset</th>
                </tr>
              </thead>
              <tbody>
                {shown.offsets.map((o) => (
                  <tr>
                    <td>{o.topic}</td>
                    <td class="num">{o.partition}</td>
                    <td class="num">{o.previous ?? "—"}</td>
                    <td class="num">{o.offset}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </div>
      ) : null}
      <Confirm
        open={confirm}
        title={`Reset the offsets of ${detail.group}?`}
        confirmLabel="Apply reset"
        danger
        onCancel={() => setConfirm(false)}
        onConfirm={() => {
          setConfirm(false);
          void run(false);
        }}
      >
        <p>
          {plural(preview?.offsets.length ?? 0, "partition offset")} {preview?.offsets.length === 1 ? "changes" : "change"} as
          previewed. Consumers of the group will read from there.
        </p>
      </Confirm>
    </form>
  );
}

export function GroupDetailPage({ group }: { group: string }) {
  const { session } = useSession();
  const tenant = session.tenant;
  const [detail, setDetail] = useState<GroupDetail | null>(null);
  const [error, setError] = useState<unknown>(undefined);
  const [lagPoints, setLag] = useState<Point[]>([]);
  const [confirmDelete, setConfirmDelete] = useState(false);
  // Not `error`: the next successful poll clears that, and this must stay until acted on.
  const [deleteError, setDeleteError] = useState<unknown>();
  const [tick, setTick] = useState(0);

  const lag = detail ? describeLag(lagSummary(detail.partitions)) : null;

  useInterval(
    async () => {
      try {
        const d = await request<GroupDetail>({ method: "GET", path: groupPath(tenant, group) });
        setDetail(d);
        setError(undefined);
        // No point while nothing is committed: the lag is unknown, not zero.
        const total = lagSummary(d.partitions).total;
        if (total !== null) setLag((l) => [...l, { t: Date.now(), v: total }].slice(-POINTS));
      } catch (e) {
        setError(e);
      }
    },
    POLL_MS,
    [tenant, group, tick],
  );

  return (
    <div class="page">
      <nav class="crumbs" aria-label="Breadcrumb">
        <a href={href("groups")} onClick={onLink}>
          Consumer groups
        </a>{" "}
        / <span>{group}</span>
      </nav>
      <h1>{group}</h1>
      <ErrorBox error={error} />
      <ErrorBox error={deleteError} title="The group was not deleted" />
      {detail === null && !error ? <Loading what="the group" /> : null}
      {detail && lag ? (
        <>
          <section class="stats" aria-label="Group summary">
            <div class="stat">
              <div class="stat-label">State</div>
              <div class="stat-value">
                <span class={`badge state-${detail.state}`}>{detail.state}</span>
              </div>
            </div>
            <div class="stat" title={lag.title}>
              <div class="stat-label">Total lag</div>
              <div class="stat-value" data-testid="total-lag">
                {lag.value}
              </div>
              {lag.note ? (
                <div class="stat-hint" data-testid="total-lag-note">
                  {lag.note}
                </div>
              ) : null}
            </div>
            <div class="stat">
              <div class="stat-label">Members</div>
              <div class="stat-value">{detail.members.length}</div>
            </div>
            <div class="stat">
              <div class="stat-label">Epoch · assignor</div>
              <div class="stat-value">
                {detail.epoch} · {detail.assignor}
              </div>
            </div>
          </section>
          <Chart label="Total lag (records)" points={lagPoints} format={(v) => formatNumber(v)} />
          <h2>Partitions</h2>
          {detail.partitions.length === 0 ? (
            <Empty>No partitions subscribed or committed.</Empty>
          ) : (
            <div class="table-wrap">
              <table class="lag">
                <thead>
                  <tr>
                    <th scope="col">Topic</th>
                    <th scope="col" class="num">Partition</th>
                    <th scope="col" class="num">Committed offset</th>
                    <th scope="col" class="num">High watermark</th>
                    <th scope="col" class="num">Lag</th>
                    <th scope="col">Owner</th>
                  </tr>
                </thead>
                <tbody>
                  {detail.partitions.map((p) => {
                    const owner = detail.members.find((m) =>
                      m.assignment.some((a) => a.topic === p.topic && a.partitions.includes(p.partition)),
                    );
                    return (
                      <tr data-topic={p.topic} data-partition={p.partition}>
                        <td>
                          <a href={href("topics", p.topic)} onClick={onLink}>
                            {p.topic}
                          </a>
                        </td>
                        <td class="num">{p.partition}</td>
                        <td class="num">{p.committed_offset ?? "—"}</td>
                        <td class="num">{p.high_watermark}</td>
                        <td class="num" data-testid="partition-lag">
                          {p.lag ?? "—"}
                        </td>
                        <td class="mono small-text">{owner ? owner.client_id || owner.member_id : "—"}</td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </div>
          )}
          <h2>Members</h2>
          {detail.members.length === 0 ? (
            <Empty>No live members.</Empty>
          ) : (
            <div class="table-wrap">
              <table class="members">
                <thead>
                  <tr>
                    <th scope="col">Member</th>
                    <th scope="col">Client</th>
                    <th scope="col">Host</th>
                    <th scope="col" class="num">Epoch</th>
                    <th scope="col">Topics</th>
                    <th scope="col">Assignment</th>
                    <th scope="col">Revoking</th>
                  </tr>
                </thead>
                <tbody>
                  {detail.members.map((m) => (
                    <tr>
                      <td class="mono small-text">
                        {m.member_id}
                        {m.instance_id ? ` (${m.instance_id})` : ""}
                      </td>
                      <td>{m.client_id}</td>
                      <td>{m.host}</td>
                      <td class="num">{m.member_epoch}</td>
                      <td>{m.topics.join(", ")}</td>
                      <td>{assignment(m.assignment)}</td>
                      <td>{assignment(m.revoking)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          <Reset tenant={tenant} detail={detail} onDone={() => setTick((t) => t + 1)} />
          <div class="card danger-zone">
            <h2>Delete group</h2>
            <p>Removes the group's committed offsets (only when it has no live members).</p>
            <button type="button" class="danger" onClick={() => setConfirmDelete(true)}>
              Delete {group}…
            </button>
          </div>
          <Confirm
            open={confirmDelete}
            title={`Delete group ${group}?`}
            confirmLabel="Delete group"
            danger
            requireText={group}
            onCancel={() => setConfirmDelete(false)}
            onConfirm={async () => {
              setConfirmDelete(false);
              try {
                setDeleteError(undefined);
                await request({ method: "DELETE", path: groupPath(tenant, group) });
                navigate(href("groups"));
              } catch (e) {
                setDeleteError(e);
              }
            }}
          >
            <p>Its committed offsets are lost; consumers joining later start by their auto_offset_reset.</p>
            <CopyAs call={() => ({ method: "DELETE", path: groupPath(tenant, group) })} />
          </Confirm>
        </>
      ) : null}
    </div>
  );
}

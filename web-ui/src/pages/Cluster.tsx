// The cluster as the node serving the console sees it: its nodes (role, liveness, addresses,
// rack), the controller, the Raft term and indexes, and how many of this tenant's partitions
// each node leads. Refreshed every few seconds.

import { useState } from "preact/hooks";
import { get } from "../api.ts";
import { CopyAs, ErrorBox, Loading, Stat, useInterval } from "../components/ui.tsx";
import { formatNumber } from "../lib/format.ts";
import { partitionsPerNode } from "../lib/cluster.ts";
import type { ClusterView, TopicDetail, TopicSummary } from "../lib/types.ts";
import { useSession } from "../session.tsx";

const POLL_MS = 3000;

export function ClusterPage() {
  const { session } = useSession();
  const topicsPath = `/v1/tenants/${encodeURIComponent(session.tenant)}/topics`;
  const [view, setView] = useState<ClusterView | null>(null);
  const [led, setLed] = useState<Map<number, number> | null>(null);
  const [error, setError] = useState<unknown>(undefined);
  useInterval(
    async () => {
      try {
        setView(await get<ClusterView>("/v1/cluster"));
        const list = (await get<{ topics: TopicSummary[] }>(topicsPath)).topics;
        const details = await Promise.all(list.map((t) => get<TopicDetail>(`${topicsPath}/${encodeURIComponent(t.name)}`)));
        setLed(partitionsPerNode(details));
        setError(undefined);
      } catch (e) {
        setError(e);
      }
    },
    POLL_MS,
    [topicsPath],
  );
  return (
    <div class="page">
      <h1>Cluster</h1>
      <div class="row wrap toolbar">
        <CopyAs call={() => ({ method: "GET", path: "/v1/cluster" })} />
      </div>
      <ErrorBox error={error} />
      {view === null && !error ? <Loading what="the cluster" /> : null}
      {view ? (
        <>
          <section class="stats" aria-label="The metadata quorum">
            <Stat label="Mode" value={view.mode === "single" ? "one node" : `${view.nodes.length} nodes`} />
            <Stat label="Controller" value={view.controller === null ? "none" : `node ${view.controller}`} />
            <Stat label="Term" value={formatNumber(view.term)} />
            <Stat
              label="Applied index"
              value={view.applied_index === null ? "—" : formatNumber(view.applied_index)}
              hint={`this console's node: ${view.node_id} (${view.role})`}
            />
          </section>
          <div class="table-wrap">
            <table class="cluster-nodes">
              <thead>
                <tr>
                  <th scope="col" class="num">Node</th>
                  <th scope="col">Role</th>
                  <th scope="col">Liveness</th>
                  <th scope="col">REST</th>
                  <th scope="col">gRPC</th>
                  <th scope="col">Rack</th>
                  <th scope="col" class="num">Partitions led</th>
                </tr>
              </thead>
              <tbody>
                {view.nodes.map((n) => (
                  <tr data-node={n.node_id}>
                    <td class="num">
                      {n.node_id}
                      {n.node_id === view.controller ? <span class="badge ok">controller</span> : null}
                    </td>
                    <td>{n.role}</td>
                    <td>
                      <span class={`badge ${n.liveness === "live" ? "ok" : "bad"}`}>{n.liveness}</span>
                    </td>
                    <td>{n.http_addr ?? "—"}</td>
                    <td>{n.grpc_addr ?? "—"}</td>
                    <td>{n.rack ?? "—"}</td>
                    <td class="num">{led === null ? "…" : formatNumber(led.get(n.node_id) ?? 0)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <p class="hint">
            Partitions led counts the topics of tenant {session.tenant}. A fenced node has not been heard from for its
            session timeout: its partitions are offline until it returns.
          </p>
        </>
      ) : null}
    </div>
  );
}

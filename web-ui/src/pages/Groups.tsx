// Consumer groups of the tenant: state, members and total lag, refreshed every few seconds.

import { useState } from "preact/hooks";
import { get } from "../api.ts";
import { CopyAs, Empty, ErrorBox, Loading, useInterval } from "../components/ui.tsx";
import { formatNumber } from "../lib/format.ts";
import type { GroupSummary } from "../lib/types.ts";
import { href, onLink } from "../router.ts";
import { useSession } from "../session.tsx";

const POLL_MS = 3000;

export function GroupsPage() {
  const { session } = useSession();
  const path = `/v1/tenants/${encodeURIComponent(session.tenant)}/groups`;
  const [groups, setGroups] = useState<GroupSummary[] | null>(null);
  const [error, setError] = useState<unknown>(undefined);
  const [query, setQuery] = useState("");
  useInterval(
    async () => {
      try {
        setGroups((await get<{ groups: GroupSummary[] }>(path)).groups);
        setError(undefined);
      } catch (e) {
        setError(e);
      }
    },
    POLL_MS,
    [path],
  );
  const q = query.trim().toLowerCase();
  const shown = (groups ?? []).filter((g) => !q || g.group.toLowerCase().includes(q));
  return (
    <div class="page">
      <h1>Consumer groups</h1>
      <div class="row wrap toolbar">
        <label class="grow">
          <span class="sr-only">Search groups</span>
          <input type="search" placeholder="Search groups" aria-label="Search groups" value={query} onInput={(e) => setQuery(e.currentTarget.value)} />
        </label>
        <CopyAs call={() => ({ method: "GET", path })} />
      </div>
      <ErrorBox error={error} />
      {groups === null && !error ? <Loading what="groups" /> : null}
      {groups !== null && groups.length === 0 ? (
        <Empty>No consumer groups yet. A group appears when a consumer joins it or commits offsets.</Empty>
      ) : null}
      {shown.length > 0 ? (
        <div class="table-wrap">
          <table class="groups">
            <thead>
              <tr>
                <th scope="col">Group</th>
                <th scope="col">State</th>
                <th scope="col" class="num">Members</th>
                <th scope="col" class="num">Total lag</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((g) => (
                <tr data-group={g.group}>
                  <td>
                    <a href={href("groups", g.group)} onClick={onLink}>
                      {g.group}
                    </a>
                  </td>
                  <td>
                    <span class={`badge state-${g.state}`}>{g.state}</span>
                  </td>
                  <td class="num">{g.members}</td>
                  <td class="num" data-testid="group-lag">
                    {formatNumber(g.total_lag)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </div>
  );
}

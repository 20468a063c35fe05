// Entry point: sign-in, the page frame (navigation, tenant, theme) and the routes.

import { render } from "preact";
import { useEffect, useMemo, useState } from "preact/hooks";
import { configure, get } from "./api.ts";
import { ErrorBox, Loading } from "./components/ui.tsx";
import { isAdmin, type Identity } from "./lib/session.ts";
import type { Tenant } from "./lib/types.ts";
import { ClusterPage } from "./pages/Cluster.tsx";
import { GroupDetailPage } from "./pages/GroupDetail.tsx";
import { GroupsPage } from "./pages/Groups.tsx";
import { OverviewPage } from "./pages/Overview.tsx";
import { ProducePage } from "./pages/Produce.tsx";
import { SignInPage } from "./pages/SignIn.tsx";
import { TenantPage } from "./pages/Tenant.tsx";
import { TopicDetailPage } from "./pages/TopicDetail.tsx";
import { TopicsPage } from "./pages/Topics.tsx";
import { href, navigate, onLink, useRoute } from "./router.ts";
import {
  SessionContext,
  authIsOff,
  consumeFragmentToken,
  forget,
  keep,
  storeTenant,
  storedTenant,
  storedToken,
  verify,
  type Session,
} from "./session.tsx";
import "./styles.css";

type Theme = "auto" | "light" | "dark";

function applyTheme(theme: Theme): void {
  if (theme === "auto") delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = theme;
}

// Before the first render, so the sign-in page is in the chosen scheme too.
applyTheme((localStorage.getItem("weir.theme") as Theme) || "auto");

function useTheme(): [Theme, (t: Theme) => void] {
  const [theme, setTheme] = useState<Theme>(() => (localStorage.getItem("weir.theme") as Theme) || "auto");
  useEffect(() => {
    applyTheme(theme);
    localStorage.setItem("weir.theme", theme);
  }, [theme]);
  return [theme, setTheme];
}

const NAV: { id: string; label: string; path: string }[] = [
  { id: "", label: "Overview", path: "" },
  { id: "topics", label: "Topics", path: "topics" },
  { id: "produce", label: "Produce", path: "produce" },
  { id: "groups", label: "Consumer groups", path: "groups" },
  { id: "tenant", label: "Tenant", path: "tenant" },
  { id: "cluster", label: "Cluster", path: "cluster" },
];

function TenantSwitch({ session, setTenant }: { session: Session; setTenant: (t: string) => void }) {
  const [tenants, setTenants] = useState<string[] | null>(null);
  useEffect(() => {
    if (!isAdmin(session.identity)) return;
    get<{ tenants: Tenant[] }>("/v1/admin/tenants").then(
      (r) => setTenants(r.tenants.map((t) => t.name)),
      () => setTenants(null),
    );
  }, [session.identity]);
  if (!tenants) return <span class="tenant-name" title="Tenant">{session.tenant}</span>;
  return (
    <label class="tenant-switch">
      <span class="sr-only">Tenant</span>
      <select value={session.tenant} onChange={(e) => setTenant(e.currentTarget.value)} aria-label="Tenant">
        {tenants.map((t) => (
          <option value={t}>{t}</option>
        ))}
      </select>
    </label>
  );
}

function Frame({ session, setTenant, signOut }: { session: Session; setTenant: (t: string) => void; signOut: () => void }) {
  const route = useRoute();
  const [theme, setTheme] = useTheme();
  const [menu, setMenu] = useState(false);
  const section = route.parts[0] ?? "";
  const page = (() => {
    const [a, b] = route.parts;
    switch (a) {
      case undefined:
        return <OverviewPage />;
      case "topics":
        return b ? <TopicDetailPage topic={b} tab={route.parts[2] ?? "messages"} /> : <TopicsPage />;
      case "produce":
        return <ProducePage initialTopic={route.query.get("topic") ?? ""} />;
      case "groups":
        return b ? <GroupDetailPage group={b} /> : <GroupsPage />;
      case "tenant":
        return <TenantPage />;
      case "cluster":
        return <ClusterPage />;
      default:
        return (
          <div class="page">
            <h1>Not found</h1>
            <p>
              There is no page at this address. <a href={href()} onClick={onLink}>Go to the overview</a>.
            </p>
          </div>
        );
    }
  })();
  return (
    <div class="frame">
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href={href()} onClick={onLink}>
          Weir
        </a>
        <button type="button" class="menu-toggle" aria-expanded={menu} aria-controls="nav" onClick={() => setMenu(!menu)}>
          Menu
        </button>
        <nav id="nav" class={menu ? "open" : ""} aria-label="Sections">
          {NAV.map((n) => (
            <a
              href={href(...(n.path ? [n.path] : []))}
              aria-current={section === n.id ? "page" : undefined}
              onClick={(e) => {
                setMenu(false);
                onLink(e);
              }}
            >
              {n.label}
            </a>
          ))}
        </nav>
        <div class="top-right">
          <TenantSwitch session={session} setTenant={setTenant} />
          <span class="who" title={session.identity.scopes.join(" ")}>
            {session.identity.subject || "anonymous"}
          </span>
          <label class="theme">
            <span class="sr-only">Colour scheme</span>
            <select value={theme} onChange={(e) => setTheme(e.currentTarget.value as Theme)} aria-label="Colour scheme">
              <option value="auto">Auto</option>
              <option value="light">Light</option>
              <option value="dark">Dark</option>
            </select>
          </label>
          {session.token ? (
            <button type="button" class="small" onClick={signOut}>
              Sign out
            </button>
          ) : null}
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {/* Remount pages when the tenant changes: all their data belongs to it. */}
        <div key={session.tenant}>{page}</div>
      </main>
    </div>
  );
}

function App() {
  const [session, setSession] = useState<Session | null>(null);
  const [state, setState] = useState<"checking" | "signed-out">("checking");
  const [error, setError] = useState<unknown>(undefined);

  const start = async (token: string | null) => {
    setState("checking");
    setError(undefined);
    try {
      let identity: Identity;
      if (token) {
        identity = await verify(token);
        keep(token);
      } else if (await authIsOff()) {
        identity = { subject: "anonymous (auth off)", tenant: "default", scopes: ["admin"] };
      } else {
        setState("signed-out");
        return;
      }
      const tenant = (isAdmin(identity) && storedTenant()) || identity.tenant;
      setSession({ token: token?.trim() ?? null, identity, tenant });
    } catch (e) {
      forget();
      setError(e);
      setState("signed-out");
    }
  };

  useEffect(() => {
    void start(consumeFragmentToken() ?? storedToken());
  }, []);

  const api = useMemo(
    () =>
      session && {
        session,
        setTenant: (t: string) => {
          storeTenant(t);
          setSession({ ...session, tenant: t });
        },
        signOut: () => {
          forget();
          setSession(null);
          setState("signed-out");
          navigate("", true);
        },
      },
    [session],
  );

  configure({
    token: () => session?.token ?? storedToken(),
    onUnauthenticated: () => {
      if (session?.token) {
        forget();
        setSession(null);
        setError(new Error("your credential stopped working (expired or revoked): sign in again"));
        setState("signed-out");
      }
    },
  });

  if (api) {
    return (
      <SessionContext.Provider value={api}>
        <Frame session={api.session} setTenant={api.setTenant} signOut={api.signOut} />
      </SessionContext.Provider>
    );
  }
  if (state === "checking") return <Loading what="the session" />;
  return (
    <>
      <SignInPage onSubmit={(t) => start(t)} />
      {error ? (
        <div class="signin-error">
          <ErrorBox error={error} title="Sign-in failed" />
        </div>
      ) : null}
    </>
  );
}

render(<App />, document.getElementById("app")!);

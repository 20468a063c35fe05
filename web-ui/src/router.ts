// History-API routing under /ui/ (the server answers index.html for every /ui/* path, so
// deep links and reloads work). The fragment is left to sign-in links.

import { useEffect, useState } from "preact/hooks";

export const BASE = "/ui/";

/** "/ui/topics/orders?x=1" → { parts: ["topics", "orders"], query } */
export interface Route {
  parts: string[];
  query: URLSearchParams;
}

function current(): Route {
  const path = window.location.pathname.startsWith(BASE) ? window.location.pathname.slice(BASE.length) : "";
  return {
    parts: path.split("/").filter(Boolean).map(decodeURIComponent),
    query: new URLSearchParams(window.location.search),
  };
}

const listeners = new Set<() => void>();

export function navigate(to: string, replace = false): void {
  const url = to.startsWith("/") ? to : BASE + to;
  if (replace) window.history.replaceState(null, "", url);
  else window.history.pushState(null, "", url);
  for (const l of listeners) l();
  window.scrollTo(0, 0);
}

window.addEventListener("popstate", () => {
  for (const l of listeners) l();
});

export function useRoute(): Route {
  const [r, setR] = useState(current);
  useEffect(() => {
    const l = () => setR(current());
    listeners.add(l);
    return () => {
      listeners.delete(l);
    };
  }, []);
  return r;
}

/** Builds an in-app href from path parts (each encoded). */
export function href(...parts: (string | number)[]): string {
  return BASE + parts.map((p) => encodeURIComponent(String(p))).join("/");
}

/** Click handler for in-app links: plain clicks navigate without a reload. */
export function onLink(e: MouseEvent): void {
  const a = (e.currentTarget as HTMLAnchorElement | null) ?? null;
  if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  e.preventDefault();
  navigate(a.getAttribute("href") ?? BASE);
}

// Small building blocks shared by the pages: async state, polling, errors, empty and loading
// states, copy buttons, "copy as" snippets, confirmation dialogs.

import type { ComponentChildren } from "preact";
import { useCallback, useEffect, useId, useRef, useState } from "preact/hooks";
import { baseUrl, plainWords } from "../api.ts";
import { LANGUAGES, snippet, type Call, type Language } from "../lib/snippets.ts";

export interface Async<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

/** Runs `fn` when `deps` change (and on `reload`); keeps the last data while reloading. */
export function useAsync<T>(fn: () => Promise<T>, deps: unknown[]): Async<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setLoading(true);
    fn().then(
      (d) => {
        if (!live) return;
        setData(d);
        setError(undefined);
        setLoading(false);
      },
      (e) => {
        if (!live) return;
        setError(e);
        setLoading(false);
      },
    );
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data, error, loading, reload };
}

/** Calls `fn` now and every `ms` while the page is visible. */
export function useInterval(fn: () => void, ms: number, deps: unknown[] = []): void {
  const saved = useRef(fn);
  saved.current = fn;
  useEffect(() => {
    saved.current();
    const id = window.setInterval(() => {
      if (document.visibilityState === "visible") saved.current();
    }, ms);
    return () => window.clearInterval(id);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [ms, ...deps]);
}

export function ErrorBox({ error, title }: { error: unknown; title?: string }) {
  if (!error) return null;
  const w = plainWords(error);
  return (
    <div class="error" role="alert" data-code={w.code}>
      <strong>{title ?? w.message}</strong> <code class="code">{w.code}</code>
      {title ? <div>{w.message}</div> : null}
      {w.detail ? <div class="detail">{w.detail}</div> : null}
    </div>
  );
}

export function Loading({ what }: { what?: string }) {
  return (
    <p class="loading" aria-busy="true" role="status">
      Loading{what ? ` ${what}` : ""}…
    </p>
  );
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <div class="empty">{children}</div>;
}

/** Shows `children(data)` with loading, error and first-load states. */
export function Show<T>({ a, what, children }: { a: Async<T>; what?: string; children: (d: T) => ComponentChildren }) {
  if (a.data === undefined && a.loading) return <Loading what={what} />;
  if (a.data === undefined) return <ErrorBox error={a.error} />;
  return (
    <>
      {a.error ? <ErrorBox error={a.error} title="Refreshing failed; showing the last answer" /> : null}
      {children(a.data)}
    </>
  );
}

export async function copyText(text: string): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    const ta = document.createElement("textarea");
    ta.value = text;
    ta.setAttribute("readonly", "");
    ta.className = "offscreen";
    document.body.appendChild(ta);
    ta.select();
    document.execCommand("copy");
    ta.remove();
  }
}

export function CopyButton({ text, label = "Copy", class: cls }: { text: () => string; label?: string; class?: string }) {
  const [done, setDone] = useState(false);
  return (
    <button
      type="button"
      class={cls ?? "small"}
      onClick={async () => {
        await copyText(text());
        setDone(true);
        window.setTimeout(() => setDone(false), 1500);
      }}
    >
      {done ? "Copied" : label}
    </button>
  );
}

/** "Copy as curl / Python / Node" for the REST call an action makes. */
export function CopyAs({ call, label = "Copy as…" }: { call: () => Call; label?: string }) {
  const [lang, setLang] = useState<Language>("curl");
  const [open, setOpen] = useState(false);
  const text = open ? snippet(lang, baseUrl(), call()) : "";
  return (
    <details class="copy-as" onToggle={(e) => setOpen((e.currentTarget as HTMLDetailsElement).open)}>
      <summary>{label}</summary>
      {open ? (
        <div class="copy-as-body">
          <div class="row" role="group" aria-label="Language">
            {LANGUAGES.map((l) => (
              <button
                type="button"
                class={l.id === lang ? "small selected" : "small"}
                aria-pressed={l.id === lang}
                onClick={() => setLang(l.id)}
              >
                {l.label}
              </button>
            ))}
            <CopyButton text={() => text} label={`Copy ${LANGUAGES.find((l) => l.id === lang)!.label}`} />
          </div>
          <pre class="snippet" data-lang={lang}>
            {text}
          </pre>
          <p class="hint">The credential is read from the WEIR_TOKEN environment variable.</p>
        </div>
      ) : null}
    </details>
  );
}

/** A modal confirmation (native <dialog>: focus trapped, Escape cancels). */
export function Confirm({
  open,
  title,
  children,
  confirmLabel,
  danger,
  requireText,
  onConfirm,
  onCancel,
}: {
  open: boolean;
  title: string;
  children: ComponentChildren;
  confirmLabel: string;
  danger?: boolean;
  /** The person must type this to confirm (destructive actions). */
  requireText?: string;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const [typed, setTyped] = useState("");
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) {
      setTyped("");
      d.showModal();
    }
    if (!open && d.open) d.close();
  }, [open]);
  const ok = !requireText || typed === requireText;
  // Pages hold several dialogs at once: each names its own title.
  const titleId = useId();
  return (
    <dialog ref={ref} onCancel={(e) => (e.preventDefault(), onCancel())} aria-labelledby={titleId}>
      <form
        method="dialog"
        onSubmit={(e) => {
          e.preventDefault();
          if (ok) onConfirm();
        }}
      >
        <h2 id={titleId}>{title}</h2>
        {children}
        {requireText ? (
          <label>
            Type <code>{requireText}</code> to confirm
            <input value={typed} onInput={(e) => setTyped(e.currentTarget.value)} autoFocus />
          </label>
        ) : null}
        <div class="row end">
          <button type="button" onClick={onCancel}>
            Cancel
          </button>
          <button type="submit" class={danger ? "danger" : "primary"} disabled={!ok}>
            {confirmLabel}
          </button>
        </div>
      </form>
    </dialog>
  );
}

/** Triggers a file download of text made in the page. */
export function download(name: string, type: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  window.setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export function Stat({ label, value, hint }: { label: string; value: ComponentChildren; hint?: ComponentChildren }) {
  return (
    <div class="stat">
      <div class="stat-label">{label}</div>
      <div class="stat-value">{value}</div>
      {hint ? <div class="stat-hint">{hint}</div> : null}
    </div>
  );
}

/** A bar showing `share` (0..1) of something, or "unlimited". */
export function Meter({ share, label }: { share: number | null; label: string }) {
  if (share === null) return <span class="hint">no quota</span>;
  const pct = Math.round(share * 100);
  return (
    <span class="meter" role="meter" aria-label={label} aria-valuemin={0} aria-valuemax={100} aria-valuenow={pct}>
      <span class={pct >= 90 ? "meter-fill hot" : "meter-fill"} style={{ width: `${pct}%` }} />
      <span class="meter-text">{pct}%</span>
    </span>
  );
}

// The REST client: every call the console makes goes through `request`, which adds the
// bearer credential and turns problem+json answers into `ApiError`s with the server's code.
// The live tail is read with fetch() streaming (not EventSource) so the credential stays in
// the Authorization header and out of URLs and logs.

import { SseParser, type SseEvent } from "./lib/sse.ts";
import type { Call } from "./lib/snippets.ts";
import type { Problem } from "./lib/types.ts";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
    readonly retryable: boolean,
  ) {
    super(`${code}: ${detail}`);
  }
}

/** Plain words for the codes a person meets most; the server's detail follows. */
const PLAIN: Record<string, string> = {
  UNAUTHENTICATED: "The credential was not accepted (missing, invalid, expired or revoked).",
  FORBIDDEN: "This credential is not allowed to do that.",
  TOPIC_NOT_FOUND: "There is no such topic.",
  TOPIC_ALREADY_EXISTS: "A topic with that name already exists.",
  TENANT_NOT_FOUND: "There is no such tenant (or you may not see it).",
  GROUP_NOT_FOUND: "There is no such consumer group.",
  INVALID_REQUEST: "The request was not valid.",
  INVALID_CONFIG: "A setting has a value the server does not accept.",
  TENANT_ALREADY_EXISTS: "A tenant with that name already exists.",
  TENANT_NOT_EMPTY: "The tenant still has topics or keys.",
  GROUP_NOT_EMPTY: "The group still has live members; stop its consumers first.",
  KEY_NOT_FOUND: "There is no such API key.",
  NODE_NOT_FOUND: "There is no node with that id in the cluster.",
  MEMBERSHIP_CONFLICT: "The cluster's members do not allow that change.",
  REQUEST_TOO_LARGE: "The request is larger than allowed.",
  ROUTE_NOT_FOUND: "The server has no such endpoint.",
  METHOD_NOT_ALLOWED: "The server does not allow that method here.",
  TIMEOUT: "The server took too long to answer.",
  INTERNAL: "The server failed while doing this.",
  STORAGE_UNAVAILABLE: "The server's storage is failing.",
  OFFSET_OUT_OF_RANGE: "That offset is outside the partition's stored records.",
  PARTITION_NOT_FOUND: "There is no such partition.",
  QUOTA_EXCEEDED: "The tenant's rate quota is used up; try again shortly.",
  STORAGE_QUOTA_EXCEEDED: "The tenant's storage quota is full.",
  COUNT_QUOTA_EXCEEDED: "The tenant has reached a count quota (topics, partitions, groups or keys).",
  RECORD_TOO_LARGE: "A record is larger than allowed.",
  INVALID_PARTITIONS: "That partition count is not allowed (partitions can only be added, up to the server's limit).",
  INVALID_SESSION_TIMEOUT: "The session timeout is outside the range the server allows.",
  OFFSET_METADATA_TOO_LARGE: "An offset's metadata is longer than allowed.",
  INVALID_RECORD: "A record is not valid (for example, it has too many headers).",
  INVALID_REQUIRED_ACKS: "The acks setting is not one the server knows.",
  UNAVAILABLE: "The server cannot do this right now.",
  NETWORK: "The server could not be reached.",
};

export function plainWords(e: unknown): { message: string; code: string; detail: string } {
  if (e instanceof ApiError) {
    return { message: PLAIN[e.code] ?? "The server refused the request.", code: e.code, detail: e.detail };
  }
  const detail = e instanceof Error ? e.message : String(e);
  return { message: "Something went wrong.", code: "CLIENT_ERROR", detail };
}

export interface ClientOptions {
  token: () => string | null;
  onUnauthenticated?: () => void;
}

let options: ClientOptions = { token: () => null };

export function configure(o: ClientOptions): void {
  options = o;
}

/** Origin the console was served from: the API lives on the same origin. */
export function baseUrl(): string {
  return window.location.origin;
}

function headers(extra: Record<string, string> = {}, token?: string | null): Record<string, string> {
  const h: Record<string, string> = { accept: "application/json", ...extra };
  const t = token === undefined ? options.token() : token;
  if (t) h.authorization = `Bearer ${t}`;
  return h;
}

async function toError(resp: Response): Promise<ApiError> {
  const text = await resp.text().catch(() => "");
  try {
    const p = JSON.parse(text) as Partial<Problem>;
    if (p && typeof p.code === "string") {
      return new ApiError(resp.status, p.code, p.detail ?? p.title ?? "", !!p.retryable);
    }
  } catch {
    // not problem+json: fall through
  }
  return new ApiError(resp.status, `HTTP_${resp.status}`, text.slice(0, 300) || resp.statusText, resp.status >= 500);
}

export interface RequestOptions {
  /** Use this credential instead of the signed-in one (sign-in checks). */
  token?: string | null;
  signal?: AbortSignal;
  /** Answer as text instead of JSON (/metrics). */
  text?: boolean;
}

export async function request<T>(call: Call, o: RequestOptions = {}): Promise<T> {
  let resp: Response;
  try {
    const init: RequestInit = {
      method: call.method,
      headers: headers(call.body !== undefined ? { "content-type": "application/json" } : {}, o.token),
      cache: "no-store",
    };
    if (call.body !== undefined) init.body = JSON.stringify(call.body);
    if (o.signal) init.signal = o.signal;
    resp = await fetch(call.path, init);
  } catch (e) {
    if (e instanceof DOMException && e.name === "AbortError") throw e;
    throw new ApiError(0, "NETWORK", e instanceof Error ? e.message : String(e), true);
  }
  if (!resp.ok) {
    const err = await toError(resp);
    if (err.status === 401 && o.token === undefined) options.onUnauthenticated?.();
    throw err;
  }
  if (resp.status === 204) return undefined as T;
  if (o.text) return (await resp.text()) as T;
  return (await resp.json()) as T;
}

export const get = <T>(path: string, o?: RequestOptions) => request<T>({ method: "GET", path }, o);

export interface TailHandlers {
  onEvent(ev: SseEvent): void;
  onOpen?(): void;
}

/**
 * Reads an SSE stream until it ends or `signal` aborts. Resumes after `lastEventId` when
 * given. Resolves with the last event id seen (to resume from later).
 */
export async function readEventStream(
  path: string,
  h: TailHandlers,
  signal: AbortSignal,
  lastEventId?: string,
): Promise<string | undefined> {
  const extra: Record<string, string> = { accept: "text/event-stream" };
  if (lastEventId) extra["last-event-id"] = lastEventId;
  let resp: Response;
  try {
    resp = await fetch(path, { headers: headers(extra), signal, cache: "no-store" });
  } catch (e) {
    if (e instanceof DOMException && e.name === "AbortError") return lastEventId;
    throw new ApiError(0, "NETWORK", e instanceof Error ? e.message : String(e), true);
  }
  if (!resp.ok || !resp.body) throw await toError(resp);
  h.onOpen?.();
  const parser = new SseParser();
  const reader = resp.body.pipeThrough(new TextDecoderStream()).getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      for (const ev of parser.push(value)) h.onEvent(ev);
    }
  } catch (e) {
    if (!(e instanceof DOMException && e.name === "AbortError")) throw e;
  } finally {
    reader.releaseLock();
  }
  return parser.lastEventId ?? lastEventId;
}

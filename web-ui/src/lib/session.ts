// Who is signed in: the credential (API key or JWT) and what it says about its holder.
// Pure helpers; storage lives in the app (sessionStorage only, never localStorage).

export interface Identity {
  subject: string;
  tenant: string;
  scopes: string[];
  /** Expiry of the JWT in ms since the epoch, when the credential is one. */
  expiresAt?: number;
}

export function isApiKey(token: string): boolean {
  return token.startsWith("weir_");
}

function base64UrlDecode(s: string): string {
  const b64 = s.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(s.length / 4) * 4, "=");
  const bin = atob(b64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return new TextDecoder().decode(bytes);
}

/** Reads (without verifying: the server does that) the claims Weir puts in its tokens. */
export function identityFromJwt(jwt: string): Identity | null {
  const parts = jwt.split(".");
  if (parts.length !== 3) return null;
  try {
    const claims = JSON.parse(base64UrlDecode(parts[1]!)) as Record<string, unknown>;
    if (typeof claims.tid !== "string") return null;
    const id: Identity = {
      subject: typeof claims.sub === "string" ? claims.sub : "",
      tenant: claims.tid,
      scopes: typeof claims.scope === "string" ? claims.scope.split(" ").filter(Boolean) : [],
    };
    if (typeof claims.exp === "number") id.expiresAt = claims.exp * 1000;
    return id;
  } catch {
    return null;
  }
}

/**
 * A sign-in link carries the credential in the fragment: `#token=…` (fragments never reach a
 * server or a log). Returns the token and the fragment with it removed.
 */
export function takeFragmentToken(hash: string): { token: string | null; rest: string } {
  const h = hash.startsWith("#") ? hash.slice(1) : hash;
  if (!h) return { token: null, rest: "" };
  const params = new URLSearchParams(h);
  const token = params.get("token");
  if (!token) return { token: null, rest: hash };
  params.delete("token");
  const rest = params.toString();
  return { token, rest: rest ? `#${rest}` : "" };
}

export function isAdmin(id: Identity | null): boolean {
  return !!id && id.scopes.includes("admin");
}

/** Whether the scopes allow an action on a name (mirrors the server's rule, for hiding buttons only). */
export function hasScope(id: Identity | null, scope: string, name?: string): boolean {
  if (!id) return false;
  if (id.scopes.includes("admin")) return true;
  return id.scopes.some((s) => {
    if (s === scope) return true;
    if (!s.startsWith(`${scope}:`)) return false;
    const pattern = s.slice(scope.length + 1);
    if (name === undefined) return true;
    return pattern.endsWith("*") ? name.startsWith(pattern.slice(0, -1)) : pattern === name;
  });
}

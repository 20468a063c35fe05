// The signed-in session: the credential (sessionStorage only), who it is, and the tenant on
// screen. Signing in checks the credential against the server before keeping it.

import { createContext } from "preact";
import { useContext } from "preact/hooks";
import { request } from "./api.ts";
import { identityFromJwt, isApiKey, takeFragmentToken, type Identity } from "./lib/session.ts";

const TOKEN_KEY = "weir.token";
const TENANT_KEY = "weir.tenant";

export interface Session {
  /** null when the server runs without authentication. */
  token: string | null;
  identity: Identity;
  /** Tenant shown (admins may switch). */
  tenant: string;
}

export interface SessionApi {
  session: Session;
  setTenant(t: string): void;
  signOut(): void;
}

export const SessionContext = createContext<SessionApi | null>(null);

export function useSession(): SessionApi {
  const s = useContext(SessionContext);
  if (!s) throw new Error("no session");
  return s;
}

export function storedToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function storedTenant(): string | null {
  return sessionStorage.getItem(TENANT_KEY);
}

export function storeTenant(t: string): void {
  sessionStorage.setItem(TENANT_KEY, t);
}

export function forget(): void {
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(TENANT_KEY);
}

/**
 * A sign-in link (`/ui/#token=…`): takes the token out of the address bar at once (so it is
 * neither kept in history nor shown), and returns it.
 */
export function consumeFragmentToken(): string | null {
  const { token, rest } = takeFragmentToken(window.location.hash);
  if (token) {
    window.history.replaceState(null, "", window.location.pathname + window.location.search + rest);
  }
  return token;
}

/** Checks a credential with the server and works out who it is. */
export async function verify(token: string): Promise<Identity> {
  const t = token.trim();
  if (isApiKey(t)) {
    // An API key says nothing about itself; a token made from it carries tenant and scopes.
    const tok = await request<{ access_token: string }>({ method: "POST", path: "/v1/auth/token" }, { token: t });
    const id = identityFromJwt(tok.access_token);
    if (!id) throw new Error("the server's token did not carry a tenant");
    return id;
  }
  const id = identityFromJwt(t);
  if (!id) throw new Error("this is neither a Weir API key (weir_…) nor a JWT with a tenant (tid) claim");
  await request({ method: "GET", path: `/v1/tenants/${encodeURIComponent(id.tenant)}/quotas` }, { token: t });
  return id;
}

/** Whether the server runs with `--auth none` (then no credential is needed). */
export async function authIsOff(): Promise<boolean> {
  try {
    await request({ method: "GET", path: "/v1/admin/tenants" }, { token: null });
    return true;
  } catch {
    return false;
  }
}

export function keep(token: string): void {
  sessionStorage.setItem(TOKEN_KEY, token.trim());
}

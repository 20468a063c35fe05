// Sign-in: paste an API key or a JWT. It is checked with the server and kept in this tab's
// session storage only.

import { useState } from "preact/hooks";

export function SignInPage({ onSubmit }: { onSubmit: (token: string) => void }) {
  const [token, setToken] = useState("");
  return (
    <div class="signin">
      <form
        class="card"
        onSubmit={(e) => {
          e.preventDefault();
          if (token.trim()) onSubmit(token.trim());
        }}
      >
        <h1>Sign in to Weir</h1>
        <label>
          API key or JWT
          <input
            type="password"
            name="token"
            autoComplete="off"
            spellcheck={false}
            placeholder="weir_… or eyJ…"
            value={token}
            onInput={(e) => setToken(e.currentTarget.value)}
            autoFocus
          />
        </label>
        <button type="submit" class="primary" disabled={!token.trim()}>
          Sign in
        </button>
        <p class="hint">
          A fresh server writes an admin key to <code>&lt;data-dir&gt;/bootstrap-admin.token</code>; paste its
          content here. The credential stays in this browser tab (session storage) and is sent only to this server.
        </p>
      </form>
    </div>
  );
}

// Vite build of the console. The output (dist/) is embedded in the `weir` binary by
// server/api/build.rs and served at /ui, so every URL is relative to /ui/ and nothing is
// loaded from anywhere else at run time.
import { defineConfig } from "vite";

export default defineConfig({
  base: "/ui/",
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    assetsDir: "assets",
    target: "es2022",
    // One small app: a single chunk keeps the request count and the embedded table small.
    modulePreload: { polyfill: false },
    reportCompressedSize: true,
  },
  server: {
    // `npm run dev` proxies the API to a local `weir serve`.
    proxy: {
      "/v1": process.env.WEIR_URL ?? "http://127.0.0.1:8780",
      "/metrics": process.env.WEIR_URL ?? "http://127.0.0.1:8780",
      "/healthz": process.env.WEIR_URL ?? "http://127.0.0.1:8780",
      "/readyz": process.env.WEIR_URL ?? "http://127.0.0.1:8780",
    },
  },
});

/// <reference types="vitest/config" />
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// `npm run dev` proxies the API to a running `grabadora dev` (port 8000 by default).
const api = (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env.GRABADORA_API_URL ?? "http://127.0.0.1:8000";
const apiPaths = ["/auth", "/uploads", "/transcribe", "/transcripts", "/live", "/me", "/v1", "/healthz"];

export default defineConfig({
  plugins: [react()],
  server: { proxy: Object.fromEntries(apiPaths.map((p) => [p, { target: api, changeOrigin: true }])) },
  build: { outDir: "dist", sourcemap: false },
  test: {
    environment: "jsdom",
    globals: true,
    setupFiles: ["src/test-setup.ts"],
    include: ["src/**/*.test.{ts,tsx}"],
    pool: "threads",
    poolOptions: { threads: { maxThreads: 1, minThreads: 1 } },
  },
});

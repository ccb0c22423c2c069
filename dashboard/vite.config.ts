/// <reference types="vitest/config" />
import tailwindcss from "@tailwindcss/vite";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// The dashboard only ever calls relative `/api/...` URLs and `/config.json`. In
// development the Vite server forwards them to the local broker's gateway
// (docs/development.md, "Local ports"); in production the gateway serves these
// built files itself.
const gateway = process.env.STOREFLEET_GATEWAY_URL ?? "http://127.0.0.1:8080";
const proxy = {
  "/api": { target: gateway, changeOrigin: false },
  "/config.json": { target: gateway, changeOrigin: false },
};

export default defineConfig({
  plugins: [react(), tailwindcss()],
  server: {
    host: "127.0.0.1",
    port: 5173,
    strictPort: true,
    proxy,
  },
  preview: {
    host: "127.0.0.1",
    port: 4173,
    strictPort: true,
    proxy,
  },
  build: { sourcemap: true },
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.{ts,tsx}"],
    setupFiles: ["src/test/setup.ts"],
    restoreMocks: true,
  },
});

// The real stack of `make dev` for the end-to-end suite: scripts/dev started
// in the background (PostgreSQL, the four functions, the local broker with the
// gateway and this dashboard's dist/), against the kubeconfig in the
// environment (scripts/e2e-dashboard points it at the kwok test cluster).

import { execFileSync } from "node:child_process";
import path from "node:path";
import { DASHBOARD_DIR } from "./browser";

const ROOT = path.resolve(DASHBOARD_DIR, "..");
const DEV = path.join(ROOT, "scripts", "dev");

export const BASE_URL = process.env.STOREFLEET_E2E_URL ?? "http://127.0.0.1:8080";

function dev(args: string[], env: Record<string, string> = {}): string {
  return execFileSync(DEV, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    timeout: 5 * 60_000,
  });
}

/** Starts the stack (already built: scripts/e2e-dashboard builds it) and returns the admin token. */
export function startStack(env: Record<string, string> = {}): string {
  dev(["stop"]);
  dev(["--background", "--no-build"], env);
  return dev(["token"]).trim();
}

export function stopStack(): void {
  dev(["stop"]);
}

/** A call to the real API, as a test fixture would make it (users, clean-up). */
export async function api<T>(token: string, method: string, apiPath: string, body?: unknown): Promise<T> {
  const init: RequestInit = {
    method,
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
  };
  if (body !== undefined) init.body = JSON.stringify(body);
  const response = await fetch(`${BASE_URL}/api${apiPath}`, init);
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} /api${apiPath}: ${response.status} ${text}`);
  return (text === "" ? undefined : JSON.parse(text)) as T;
}

/** A fresh user with its own quota, so each run starts from an empty list. */
export async function createUser(adminToken: string, maxStores: number): Promise<{ name: string; token: string }> {
  const name = `e2e-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
  const user = await api<{ name: string; token: string }>(adminToken, "POST", "/users", { name, max_stores: maxStores });
  return { name: user.name, token: user.token };
}

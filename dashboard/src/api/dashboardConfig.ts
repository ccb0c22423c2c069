// What the dashboard learns from where it is served: GET /config.json, no
// token (it is the same for everyone). The production gateway renders it from
// the platform chart's values (dashboard/nginx), the local broker from its
// flags (scripts/dev); docs/dashboard.md, "Configuration".

/** Path of the document, on the dashboard's own origin. */
export const CONFIG_PATH = "/config.json";

export interface DashboardConfig {
  /** The mail catcher's web UI (development only); null: no Mail link. */
  mailUrl: string | null;
}

export const NO_CONFIG: DashboardConfig = { mailUrl: null };

/** Only an absolute http(s) URL becomes a link: nothing else (javascript:, relative paths) is trusted. */
function httpUrl(value: unknown): string | null {
  if (typeof value !== "string") return null;
  try {
    const url = new URL(value);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  } catch {
    return null;
  }
}

export function parseDashboardConfig(value: unknown): DashboardConfig {
  if (typeof value !== "object" || value === null) return NO_CONFIG;
  return { mailUrl: httpUrl((value as Record<string, unknown>).mailUrl) };
}

/**
 * The configuration, or NO_CONFIG when there is none: a gateway without the
 * document answers with the SPA's index.html or an error, and the dashboard
 * then simply has no optional links. Never throws.
 */
export async function fetchDashboardConfig(signal?: AbortSignal): Promise<DashboardConfig> {
  try {
    const response = await fetch(CONFIG_PATH, { headers: { Accept: "application/json" }, signal: signal ?? null });
    if (!response.ok || !(response.headers.get("content-type") ?? "").includes("application/json")) return NO_CONFIG;
    return parseDashboardConfig(await response.json());
  } catch {
    return NO_CONFIG;
  }
}

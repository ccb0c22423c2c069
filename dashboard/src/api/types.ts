// The shapes of the Storefleet HTTP API (docs/api.md, docs/openapi.json).

export type StoreStatus = "provisioning" | "ready" | "failed" | "deleting" | "deleted";

export interface StoreUrls {
  storefront: string | null;
  admin: string | null;
}

export interface Store {
  id: string;
  name: string;
  /** `woocommerce` or `medusa`; kept a string so a new engine does not break the list. */
  type: string;
  status: StoreStatus;
  namespace: string;
  urls: StoreUrls | null;
  created_at: string;
  updated_at: string;
  ready_at: string | null;
  provisioning_seconds: number | null;
  failure_reason: string | null;
}

export interface StorePage {
  stores: Store[];
  next_cursor: string | null;
}

/**
 * One entry of a store's activity log. The API promises "the activity log,
 * oldest first"; the field names below are the agreed ones, and
 * `normalizeEvent` also accepts the obvious alternatives so that a renamed
 * field degrades to a less detailed line instead of a blank page.
 */
export interface StoreEvent {
  id: string;
  kind: string;
  message: string;
  created_at: string | null;
}

export interface Me {
  name: string;
  max_stores: number;
  active_stores: number;
}

export interface Engine {
  type: string;
  enabled: boolean;
  description: string;
}

export interface Credentials {
  admin_user: string;
  admin_password: string;
  admin_url: string;
}

/** RFC 9457 problem details, as every error of the API is answered. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
}

/** The statuses in which a store is still changing by itself. */
export function isTransitional(status: StoreStatus): boolean {
  return status === "provisioning" || status === "deleting";
}

function pickString(raw: Record<string, unknown>, keys: string[]): string | null {
  for (const key of keys) {
    const value = raw[key];
    if (typeof value === "string" && value !== "") return value;
    if (typeof value === "number") return String(value);
  }
  return null;
}

export function normalizeEvent(raw: unknown, index: number): StoreEvent {
  const record = typeof raw === "object" && raw !== null ? (raw as Record<string, unknown>) : {};
  const kind = pickString(record, ["kind", "type", "event_type", "step", "status"]) ?? "event";
  return {
    id: pickString(record, ["id"]) ?? String(index),
    kind,
    message: pickString(record, ["message", "detail", "description", "reason"]) ?? kind,
    created_at: pickString(record, ["created_at", "at", "time", "timestamp"]),
  };
}

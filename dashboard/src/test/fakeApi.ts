// An in-memory stand-in for the Storefleet API, for component tests (through a
// stubbed fetch) and for the visual/a11y check (through Playwright's
// page.route). It is NOT the proof that the dashboard works with the real
// functions: that is the e2e suite in e2e/, against the real stack.

import type { CreateStore, Credentials, EngineList, EngineView, EventList, Me, Problem, Store, StoreEvent, StorePage, StoreStatus } from "../api/types";

export interface FakeRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string | null;
}

export interface FakeResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface InjectedFailure {
  method: string;
  path: string;
  /** An HTTP problem answer, or "network" for a request that gets no answer. */
  answer: { status: number; title: string; detail: string; type?: string } | "network";
}

export interface FakeState {
  token: string;
  name: string;
  maxStores: number;
  engines: EngineView[];
  stores: Store[];
  events: Record<string, StoreEvent[]>;
  credentials: Record<string, Credentials>;
  idempotency: Record<string, string>;
  failures: InjectedFailure[];
  requests: FakeRequest[];
  /** The body of GET /config.json (no token needed); undefined: the SPA's index.html, as a gateway without one answers. */
  dashboardConfig?: unknown;
}

// What readiness-checker writes as `failure_reason` (shared/kube/src/readiness/tenant.rs,
// Failure::sentence): fixed sentences, never the cluster's words.
export const IMAGE_NOT_PULLED =
  "WordPress cannot start: its image cannot be pulled; the platform team can see why in the platform's logs. Delete the store and create it again, or ask them.";
export const CRASHING =
  "WordPress keeps crashing; the platform team can see why in the platform's logs. Delete the store and create it again, or ask them.";

export const WOOCOMMERCE: EngineView = { type: "woocommerce", enabled: true, description: "WordPress with WooCommerce" };
export const MEDUSA_DISABLED: EngineView = { type: "medusa", enabled: false, description: "Headless commerce (Medusa)" };

export function makeStore(partial: Partial<Store> & { id: string; name: string }, status: StoreStatus = "ready"): Store {
  const created = partial.created_at ?? "2026-11-22T10:00:00Z";
  return {
    type: "woocommerce",
    status,
    namespace: `store-${partial.id}`,
    urls: { storefront: `http://${partial.id}.localhost`, admin: `http://${partial.id}.localhost/wp-admin/` },
    created_at: created,
    updated_at: created,
    ready_at: null,
    provisioning_seconds: null,
    failure_reason: null,
    ...partial,
  };
}

export function fakeState(overrides: Partial<FakeState> = {}): FakeState {
  // Copies, so one test's deletes never leak into the next test's stores.
  const copy = structuredClone(overrides);
  return {
    token: "test-token",
    name: "alice",
    maxStores: 5,
    engines: [WOOCOMMERCE, MEDUSA_DISABLED],
    stores: [],
    events: {},
    credentials: {},
    idempotency: {},
    failures: [],
    requests: [],
    // as the production gateway answers without a mail catcher
    dashboardConfig: {},
    ...copy,
  };
}

// Each answer typed as the document declares it, so the stand-in cannot
// drift from the API the way the old activity log did.
function json(status: number, body: Me | EngineList | StorePage | Store | EventList | Credentials): FakeResponse {
  return { status, headers: { "content-type": "application/json" }, body: JSON.stringify(body) };
}

function problem(status: number, title: string, detail: string, type = "about:blank"): FakeResponse {
  return {
    status,
    headers: { "content-type": "application/problem+json" },
    body: JSON.stringify({ type, title, status, detail } satisfies Problem),
  };
}

let counter = 0;
function newId(): string {
  counter += 1;
  return `new${String(counter).padStart(5, "0")}`;
}

/** Answers one request like the API would; "network" means no answer at all. */
export function answer(state: FakeState, request: FakeRequest): FakeResponse | "network" {
  state.requests.push(request);
  const pathOnly = request.path.split("?")[0] ?? request.path;
  if (request.method === "GET" && pathOnly === "/config.json") {
    if (state.dashboardConfig === undefined) {
      return { status: 200, headers: { "content-type": "text/html" }, body: "<!doctype html><title>Storefleet</title>" };
    }
    // not the API's: any JSON, to test what the dashboard makes of it
    return { status: 200, headers: { "content-type": "application/json" }, body: JSON.stringify(state.dashboardConfig) };
  }
  const failureAt = state.failures.findIndex((f) => f.method === request.method && f.path === pathOnly);
  if (failureAt >= 0) {
    const [failure] = state.failures.splice(failureAt, 1);
    if (failure !== undefined) {
      if (failure.answer === "network") return "network";
      return problem(failure.answer.status, failure.answer.title, failure.answer.detail, failure.answer.type);
    }
  }
  if (request.headers.authorization !== `Bearer ${state.token}`) {
    return problem(401, "Unauthorized", "The bearer token is missing or not valid.");
  }
  const active = state.stores.filter((s) => s.status !== "deleted");
  const parts = pathOnly.split("/").filter(Boolean); // ["api", "stores", id, ...]

  if (request.method === "GET" && pathOnly === "/api/me") {
    return json(200, { name: state.name, max_stores: state.maxStores, active_stores: active.length, is_admin: false });
  }
  if (request.method === "GET" && pathOnly === "/api/engines") return json(200, { engines: state.engines });
  if (request.method === "GET" && pathOnly === "/api/stores") return json(200, { stores: active, next_cursor: null });
  if (request.method === "POST" && pathOnly === "/api/stores") {
    const body = JSON.parse(request.body ?? "{}") as Partial<CreateStore>;
    const key = request.headers["idempotency-key"];
    if (key !== undefined && state.idempotency[key] !== undefined) {
      const earlier = state.stores.find((s) => s.id === state.idempotency[key]);
      if (earlier !== undefined) return json(202, earlier);
    }
    const engine = state.engines.find((e) => e.type === body.type);
    if (engine === undefined) return problem(422, "Unknown store type", `type must be one of: woocommerce, medusa`);
    if (!engine.enabled) return problem(422, "Store type not enabled", `${engine.type} is not enabled in this installation`);
    if (active.length >= state.maxStores) {
      return problem(403, "Quota exceeded", `You have ${active.length} of ${state.maxStores} stores.`, "https://storefleet.dev/problems/quota-exceeded");
    }
    const store = makeStore({ id: newId(), name: body.name ?? "", created_at: new Date().toISOString() }, "provisioning");
    state.stores.unshift(store);
    if (key !== undefined) state.idempotency[key] = store.id;
    return json(202, store);
  }
  if (parts[0] === "api" && parts[1] === "stores" && parts[2] !== undefined) {
    const store = state.stores.find((s) => s.id === parts[2] && s.status !== "deleted");
    if (store === undefined) return problem(404, "Not found", `There is no store ${parts[2]}.`);
    if (request.method === "DELETE" && parts.length === 3) {
      store.status = "deleting";
      return json(202, store);
    }
    if (request.method === "GET" && parts.length === 3) return json(200, store);
    if (request.method === "GET" && parts[3] === "events") return json(200, { events: state.events[store.id] ?? [] });
    if (request.method === "GET" && parts[3] === "credentials") {
      const credentials = state.credentials[store.id];
      return credentials ? json(200, credentials) : problem(404, "Not found", "The store's secret does not exist yet.");
    }
  }
  return problem(404, "Not found", `${request.method} ${pathOnly} is not an API route.`);
}

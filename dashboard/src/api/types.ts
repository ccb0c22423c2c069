// The shapes of the Storefleet HTTP API, as docs/openapi.json declares them.
// `openapi.d.ts` is generated from that document (`make dashboard-types`,
// checked by `make lint`); this file only names its schemas for the
// components, and adds what the document cannot say, derived from them.

import type { components } from "./openapi";

type Schemas = components["schemas"];

export type Store = Omit<Schemas["StoreView"], "status"> & { status: StoreStatus };
export type StoreUrls = Schemas["StoreUrls"];
export type StorePage = Omit<Schemas["StoreList"], "stores"> & { stores: Store[] };
/** One entry of a store's activity log: `at`, `kind`, `message`, an optional `detail`. */
export type StoreEvent = Schemas["StoreEvent"];
export type EventList = Schemas["EventList"];
export type Me = Schemas["Me"];
/** A store type and whether this installation creates it (`GET /api/engines`). */
export type EngineView = Schemas["EngineView"];
export type EngineList = Schemas["EngineList"];
export type Credentials = Schemas["Credentials"];
export type CreateStore = Schemas["CreateStore"];
/** RFC 9457 problem details, as every error of the API is answered. */
export type Problem = Schemas["Problem"];

/**
 * A problem as read off any error answer: the API always sends `detail`, but
 * an answer from something in between (a proxy, a gateway that is not ours)
 * may not, and the document describes only the API's own answers.
 */
export type ProblemAnswer = Omit<Problem, "detail"> & { detail?: Problem["detail"] };

/**
 * A store's statuses (docs/api.md). The document types `status` as a string
 * (the server's `StoreView.status` is one), so the values are listed here;
 * `satisfies` keeps them within what the document allows, so once it
 * declares the enum, a value it does not have fails the typecheck.
 */
export const STORE_STATUSES = [
  "provisioning",
  "ready",
  "failed",
  "deleting",
  "deleted",
] as const satisfies readonly Schemas["StoreView"]["status"][];

export type StoreStatus = (typeof STORE_STATUSES)[number];

/** The statuses in which a store is still changing by itself. */
export function isTransitional(status: StoreStatus): boolean {
  return status === "provisioning" || status === "deleting";
}

function isStoreStatus(status: string): status is StoreStatus {
  return (STORE_STATUSES as readonly string[]).includes(status);
}

/**
 * The store the API answered, with its status checked against the ones this
 * dashboard knows: a status it cannot show is an error that says so, not a
 * blank badge.
 */
export function asStore(view: Schemas["StoreView"]): Store {
  const { status } = view;
  if (!isStoreStatus(status)) {
    throw new Error(`The API reports store ${view.id} as "${status}", a status this dashboard does not know; update the dashboard.`);
  }
  return { ...view, status };
}

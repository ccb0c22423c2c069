// All server state goes through TanStack Query. The queryOptions factories
// below are the only place that knows the API's paths and the cache keys;
// the hooks bind them to the signed-in user's client. Keys are hierarchical
// (["stores"], ["stores", id], ["stores", id, "events", …]), so invalidating
// ["stores"] reaches everything about stores.

import {
  infiniteQueryOptions,
  keepPreviousData,
  queryOptions,
  skipToken,
  useInfiniteQuery,
  useMutation,
  useQuery,
  useQueryClient,
  type InfiniteData,
  type QueryClient,
} from "@tanstack/react-query";
import { useApi } from "../auth/session";
import type { ApiClient } from "./client";
import { fetchDashboardConfig } from "./dashboardConfig";
import { BUSY_MIN_MS, nextPollInterval } from "../lib/polling";
import { asStore, isTransitional, type CreateStore, type Store, type StorePage, type StoreStatus } from "./types";

export const queryKeys = {
  /** The store list, and the prefix of every key about stores. */
  stores: ["stores"] as const,
  store: (id: string) => ["stores", id] as const,
  /** A store's activity log as read while the store had `status` (see storeQueries.events). */
  events: (id: string, status?: StoreStatus) => ["stores", id, "events", { status }] as const,
  credentials: (id: string) => ["stores", id, "credentials"] as const,
  me: ["me"] as const,
  engines: ["engines"] as const,
  dashboardConfig: ["dashboard-config"] as const,
};

/**
 * When each query's data last changed. TanStack Query keeps the same data
 * object when a refetch returns equal JSON (structural sharing), so an
 * identity check tells "changed" from "same". Keyed by the cache's query, so
 * every component showing the same data polls it the same way.
 */
const lastChange = new WeakMap<object, { data: unknown; at: number }>();

function msSinceChange(query: object, data: unknown): number {
  const seen = lastChange.get(query);
  if (seen !== undefined && seen.data === data) return Date.now() - seen.at;
  lastChange.set(query, { data, at: Date.now() });
  return 0;
}

/** A refetchInterval that backs off while the data stays the same (src/lib/polling.ts). */
function backoff<T>(query: { state: { data: T | undefined } }, busy: (data: T) => boolean): number | false {
  const data = query.state.data;
  if (data === undefined) return false; // errors: retries and the Retry button handle it
  return nextPollInterval(busy(data), msSinceChange(query, data));
}

export function storesOf(data: InfiniteData<StorePage> | undefined): Store[] {
  return data?.pages.flatMap((page) => page.stores) ?? [];
}

export const storeQueries = {
  list: (api: ApiClient) =>
    infiniteQueryOptions({
      queryKey: queryKeys.stores,
      queryFn: async ({ pageParam, signal }): Promise<StorePage> => {
        const page = await api.request("get", "/api/stores", { query: pageParam === null ? {} : { cursor: pageParam }, signal });
        return { ...page, stores: page.stores.map(asStore) };
      },
      initialPageParam: null as string | null,
      getNextPageParam: (last) => last.next_cursor ?? undefined,
      refetchInterval: (query) => backoff(query, (data) => storesOf(data).some((store) => isTransitional(store.status))),
    }),

  detail: (api: ApiClient, id: string) =>
    queryOptions({
      queryKey: queryKeys.store(id),
      queryFn: async ({ signal }) => asStore(await api.request("get", "/api/stores/{id}", { path: { id }, signal })),
      refetchInterval: (query) => backoff(query, (store) => isTransitional(store.status)),
    }),

  /**
   * The activity log. A new status means a new step in the log, so the
   * status the store was last seen with is part of the key: the log is read
   * again as soon as the store's own poll sees the status change, while the
   * previous log stays on screen. Not read before the store's status is known.
   */
  events: (api: ApiClient, id: string, status: StoreStatus | undefined) =>
    queryOptions({
      queryKey: queryKeys.events(id, status),
      queryFn:
        status === undefined
          ? skipToken
          : async ({ signal }) => (await api.request("get", "/api/stores/{id}/events", { path: { id }, signal })).events,
      placeholderData: keepPreviousData,
      refetchInterval: (query) => backoff(query, () => status !== undefined && isTransitional(status)),
    }),

  credentials: (api: ApiClient, id: string) =>
    queryOptions({
      queryKey: queryKeys.credentials(id),
      queryFn: ({ signal }) => api.request("get", "/api/stores/{id}/credentials", { path: { id }, signal }),
      // Secrets are fetched when asked for and dropped from memory when hidden.
      staleTime: 0,
      gcTime: 0,
      retry: false,
    }),
};

/**
 * The caller and their quota. `active_stores` drops when a deletion finishes,
 * long after the DELETE request, and only the list's poll sees that: so the
 * quota is read again soon after each read of the list, and backs off with
 * the list otherwise.
 */
export const meQuery = (api: ApiClient, client: QueryClient) =>
  queryOptions({
    queryKey: queryKeys.me,
    queryFn: ({ signal }) => api.request("get", "/api/me", { signal }),
    refetchInterval: (query) => {
      const list = client.getQueryState<InfiniteData<StorePage>>(queryKeys.stores);
      if (list !== undefined && list.dataUpdatedAt > query.state.dataUpdatedAt) return BUSY_MIN_MS;
      return backoff(query, () => storesOf(list?.data).some((store) => isTransitional(store.status)));
    },
  });

export const enginesQuery = (api: ApiClient) =>
  queryOptions({
    queryKey: queryKeys.engines,
    queryFn: ({ signal }) => api.request("get", "/api/engines", { signal }),
    select: (list) => list.engines,
    staleTime: 5 * 60_000,
  });

/** GET /config.json once per page load: it changes only with a new deployment. */
export const dashboardConfigQuery = queryOptions({
  queryKey: queryKeys.dashboardConfig,
  queryFn: ({ signal }) => fetchDashboardConfig(signal),
  staleTime: Infinity,
  refetchOnWindowFocus: false,
});

export function useDashboardConfig() {
  return useQuery(dashboardConfigQuery);
}

export function useStores() {
  return useInfiniteQuery(storeQueries.list(useApi()));
}

export function useStore(id: string) {
  return useQuery(storeQueries.detail(useApi(), id));
}

export function useStoreEvents(id: string, status: StoreStatus | undefined) {
  return useQuery(storeQueries.events(useApi(), id, status));
}

export function useCredentials(id: string, revealed: boolean) {
  return useQuery({ ...storeQueries.credentials(useApi(), id), enabled: revealed });
}

export function useMe() {
  return useQuery(meQuery(useApi(), useQueryClient()));
}

export function useEngines() {
  return useQuery(enginesQuery(useApi()));
}

export interface CreateStoreInput extends CreateStore {
  idempotencyKey: string;
}

export function useCreateStore() {
  const api = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async ({ name, type, idempotencyKey }: CreateStoreInput) =>
      asStore(
        await api.request("post", "/api/stores", {
          body: { name, type },
          headers: { "Idempotency-Key": idempotencyKey },
        }),
      ),
    onSuccess: async (store) => {
      queryClient.setQueryData(queryKeys.store(store.id), store);
      await Promise.all([
        queryClient.invalidateQueries({ queryKey: queryKeys.stores, exact: true }),
        queryClient.invalidateQueries({ queryKey: queryKeys.me }),
      ]);
    },
  });
}

export function useDeleteStore() {
  const api = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async (id: string) => asStore(await api.request("delete", "/api/stores/{id}", { path: { id } })),
    onSuccess: async (store) => {
      // Show "Deleting" at once rather than at the next poll.
      queryClient.setQueryData(queryKeys.store(store.id), store);
      queryClient.setQueryData(storeQueries.list(api).queryKey, (data) =>
        data === undefined
          ? data
          : {
              ...data,
              pages: data.pages.map((page) => ({
                ...page,
                stores: page.stores.map((s) => (s.id === store.id ? store : s)),
              })),
            },
      );
      // Everything about the store changes with it: its detail, its log.
      await Promise.all([
        queryClient.invalidateQueries({ queryKey: queryKeys.stores }),
        queryClient.invalidateQueries({ queryKey: queryKeys.me }),
      ]);
    },
  });
}

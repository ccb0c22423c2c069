// All server state goes through TanStack Query: these hooks are the only
// place that knows the API's paths and the cache keys.

import {
  useInfiniteQuery,
  useMutation,
  useQuery,
  useQueryClient,
  type InfiniteData,
} from "@tanstack/react-query";
import { useState } from "react";
import { useApi } from "../auth/session";
import { fetchDashboardConfig } from "./dashboardConfig";
import { nextPollInterval } from "../lib/polling";
import type { Credentials, Engine, Me, Store, StoreEvent, StorePage } from "./types";
import { isTransitional, normalizeEvent } from "./types";

export const keys = {
  stores: ["stores"] as const,
  store: (id: string) => ["store", id] as const,
  events: (id: string) => ["store", id, "events"] as const,
  credentials: (id: string) => ["store", id, "credentials"] as const,
  me: ["me"] as const,
  engines: ["engines"] as const,
  dashboardConfig: ["dashboard-config"] as const,
};

/** GET /config.json once per page load: it changes only with a new deployment. */
export function useDashboardConfig() {
  return useQuery({
    queryKey: keys.dashboardConfig,
    queryFn: ({ signal }) => fetchDashboardConfig(signal),
    staleTime: Infinity,
    refetchOnWindowFocus: false,
  });
}

/**
 * A refetchInterval that backs off while the data stays the same. TanStack
 * Query keeps the same data object when a refetch returns equal JSON
 * (structural sharing), so an identity check tells "changed" from "same".
 */
function useBackoffInterval<T>(isBusy: (data: T) => boolean) {
  const [interval] = useState(() => {
    let last: { data: T | undefined; changedAt: number } = { data: undefined, changedAt: Date.now() };
    return (query: { state: { data: T | undefined } }): number | false => {
      const data = query.state.data;
      if (data === undefined) return false; // errors: retries and the Retry button handle it
      if (data !== last.data) last = { data, changedAt: Date.now() };
      return nextPollInterval(isBusy(data), Date.now() - last.changedAt);
    };
  });
  return interval;
}

export function storesOf(data: InfiniteData<StorePage> | undefined): Store[] {
  return data?.pages.flatMap((page) => page.stores) ?? [];
}

export function useStores() {
  const api = useApi();
  const refetchInterval = useBackoffInterval<InfiniteData<StorePage, string | null>>((data) =>
    storesOf(data).some((store) => isTransitional(store.status)),
  );
  return useInfiniteQuery({
    queryKey: keys.stores,
    queryFn: ({ pageParam, signal }) => {
      const query = pageParam === null ? "" : `?cursor=${encodeURIComponent(pageParam)}`;
      return api.request<StorePage>(`/stores${query}`, { signal });
    },
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
    refetchInterval,
  });
}

export function useStore(id: string) {
  const api = useApi();
  const refetchInterval = useBackoffInterval<Store>((store) => isTransitional(store.status));
  return useQuery({
    queryKey: keys.store(id),
    queryFn: ({ signal }) => api.request<Store>(`/stores/${encodeURIComponent(id)}`, { signal }),
    refetchInterval,
  });
}

export function useStoreEvents(id: string) {
  const api = useApi();
  const queryClient = useQueryClient();
  // Busy while the store (as last fetched by useStore) is provisioning or
  // deleting. Read from the cache at each decision, not captured once.
  const refetchInterval = useBackoffInterval<StoreEvent[]>(() => {
    const store = queryClient.getQueryData<Store>(keys.store(id));
    return store !== undefined && isTransitional(store.status);
  });
  return useQuery({
    queryKey: keys.events(id),
    queryFn: async ({ signal }) => {
      const body = await api.request<{ events: unknown[] }>(`/stores/${encodeURIComponent(id)}/events`, { signal });
      return body.events.map(normalizeEvent);
    },
    refetchInterval,
  });
}

export function useCredentials(id: string, revealed: boolean) {
  const api = useApi();
  return useQuery({
    queryKey: keys.credentials(id),
    queryFn: ({ signal }) => api.request<Credentials>(`/stores/${encodeURIComponent(id)}/credentials`, { signal }),
    enabled: revealed,
    // Secrets are fetched when asked for and dropped from memory when hidden.
    staleTime: 0,
    gcTime: 0,
    retry: false,
  });
}

export function useMe() {
  const api = useApi();
  return useQuery({
    queryKey: keys.me,
    queryFn: ({ signal }) => api.request<Me>("/me", { signal }),
  });
}

export function useEngines() {
  const api = useApi();
  return useQuery({
    queryKey: keys.engines,
    queryFn: async ({ signal }) => (await api.request<{ engines: Engine[] }>("/engines", { signal })).engines,
    staleTime: 5 * 60_000,
  });
}

export interface CreateStoreInput {
  name: string;
  type: string;
  idempotencyKey: string;
}

export function useCreateStore() {
  const api = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ name, type, idempotencyKey }: CreateStoreInput) =>
      api.request<Store>("/stores", {
        method: "POST",
        body: { name, type },
        headers: { "Idempotency-Key": idempotencyKey },
      }),
    onSuccess: async (store) => {
      queryClient.setQueryData(keys.store(store.id), store);
      await Promise.all([
        queryClient.invalidateQueries({ queryKey: keys.stores }),
        queryClient.invalidateQueries({ queryKey: keys.me }),
      ]);
    },
  });
}

export function useDeleteStore() {
  const api = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api.request<Store>(`/stores/${encodeURIComponent(id)}`, { method: "DELETE" }),
    onSuccess: async (store) => {
      queryClient.setQueryData(keys.store(store.id), store);
      // Show "Deleting" at once rather than at the next poll.
      queryClient.setQueryData<InfiniteData<StorePage, string | null>>(keys.stores, (data) =>
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
      await Promise.all([
        queryClient.invalidateQueries({ queryKey: keys.stores }),
        queryClient.invalidateQueries({ queryKey: keys.me }),
      ]);
    },
  });
}

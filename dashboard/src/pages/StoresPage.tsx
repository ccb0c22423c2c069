import { useId, useState } from "react";
import { storesOf, useMe, useStores } from "../api/queries";
import type { Store } from "../api/types";
import { CreateStoreDialog } from "../components/CreateStoreDialog";
import { DeleteStoreDialog } from "../components/DeleteStoreDialog";
import { ErrorPanel } from "../components/ErrorPanel";
import { PlusIcon } from "../components/icons";
import { ProvisioningChart } from "../components/ProvisioningChart";
import { atQuota, QuotaMeter } from "../components/QuotaMeter";
import { StoreList } from "../components/StoreList";

function LoadingList() {
  return (
    <div role="status" aria-live="polite" className="space-y-3">
      <span className="sr-only">Loading your stores…</span>
      {[0, 1, 2].map((i) => (
        <div key={i} className="h-24 animate-pulse rounded-lg bg-slate-200" aria-hidden="true" />
      ))}
    </div>
  );
}

function EmptyState({ onCreate, canCreate }: { onCreate: () => void; canCreate: boolean }) {
  return (
    <div className="rounded-lg border-2 border-dashed border-slate-300 bg-white p-8 text-center">
      <h2 className="text-lg font-semibold text-slate-900">No stores yet</h2>
      <p className="mx-auto mt-1 max-w-md text-slate-600">
        Create your first store: give it a name and pick WooCommerce. It gets its own namespace, database and URL, and is
        ready in a few minutes.
      </p>
      {canCreate && (
        <button type="button" className="btn-primary mt-4" onClick={onCreate}>
          <PlusIcon />
          Create your first store
        </button>
      )}
    </div>
  );
}

export function StoresPage() {
  const stores = useStores();
  const me = useMe();
  const [creating, setCreating] = useState(false);
  const [deleting, setDeleting] = useState<Store | null>(null);
  const [announcement, setAnnouncement] = useState("");
  const quotaReasonId = useId();
  const full = atQuota(me.data);
  const list = storesOf(stores.data);

  return (
    <div className="space-y-6">
      <div className="flex flex-wrap items-start justify-between gap-4">
        <div>
          <h1 className="text-2xl font-bold text-slate-900">Stores</h1>
          {me.data && <QuotaMeter me={me.data} />}
          {me.isError && <p className="text-sm text-slate-600">Your store limit could not be loaded.</p>}
        </div>
        <div className="flex flex-col items-end gap-1">
          <button
            type="button"
            className="btn-primary"
            disabled={full}
            aria-describedby={full ? quotaReasonId : undefined}
            onClick={() => {
              setCreating(true);
            }}
          >
            <PlusIcon />
            Create store
          </button>
          {full && me.data && (
            <p id={quotaReasonId} className="max-w-xs text-right text-sm text-red-800">
              You are using all {me.data.max_stores} of your stores. Delete one to create another, or ask an administrator to
              raise your limit.
            </p>
          )}
        </div>
      </div>

      <p role="status" aria-live="polite" className="sr-only">
        {announcement}
      </p>

      <section aria-labelledby="stores-heading" className="space-y-3">
        <h2 id="stores-heading" className="sr-only">
          Your stores
        </h2>
        {stores.isPending && <LoadingList />}
        {stores.isError && (
          <ErrorPanel what="Your stores could not be loaded" error={stores.error} onRetry={() => void stores.refetch()} />
        )}
        {stores.isSuccess && list.length === 0 && (
          <EmptyState
            canCreate={!full}
            onCreate={() => {
              setCreating(true);
            }}
          />
        )}
        {list.length > 0 && <StoreList stores={list} onDelete={setDeleting} />}
        {stores.hasNextPage && (
          <button type="button" className="btn-secondary" disabled={stores.isFetchingNextPage} onClick={() => void stores.fetchNextPage()}>
            {stores.isFetchingNextPage ? "Loading more…" : "Show older stores"}
          </button>
        )}
      </section>

      {list.length > 0 && (
        <section aria-labelledby="chart-heading" className="rounded-lg border border-slate-200 bg-white p-4">
          <h2 id="chart-heading" className="text-base font-semibold text-slate-900">
            Provisioning times
          </h2>
          <div className="mt-2">
            <ProvisioningChart stores={list} />
          </div>
        </section>
      )}

      <CreateStoreDialog
        open={creating}
        onClose={() => {
          setCreating(false);
        }}
        onCreated={(store) => {
          setCreating(false);
          setAnnouncement(`Store ${store.name} is being created.`);
        }}
      />
      <DeleteStoreDialog
        store={deleting}
        onClose={() => {
          setDeleting(null);
        }}
        onDeleted={(store) => {
          setAnnouncement(`Store ${store.name} is being deleted.`);
        }}
      />
    </div>
  );
}

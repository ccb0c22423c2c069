import { Fragment, useState } from "react";
import { Link, useParams } from "react-router";
import { ApiError } from "../api/client";
import { useStore, useStoreEvents } from "../api/queries";
import type { Store } from "../api/types";
import { ActivityLog } from "../components/ActivityLog";
import { engineName } from "../components/CreateStoreDialog";
import { CredentialsPanel } from "../components/CredentialsPanel";
import { DeleteStoreDialog } from "../components/DeleteStoreDialog";
import { ErrorPanel } from "../components/ErrorPanel";
import { TrashIcon } from "../components/icons";
import { RelativeTime } from "../components/RelativeTime";
import { StatusBadge } from "../components/StatusBadge";
import { ExternalLink, FailureReason } from "../components/StoreList";
import { formatDuration } from "../lib/time";
import { useNow } from "../lib/useNow";

function ProvisioningTime({ store }: { store: Store }) {
  const now = useNow(1_000);
  if (store.provisioning_seconds != null) return <>{formatDuration(store.provisioning_seconds)}</>;
  if (store.status === "provisioning") {
    const elapsed = (now - Date.parse(store.created_at)) / 1000;
    return <>still provisioning — {formatDuration(elapsed)} so far</>;
  }
  return <>not recorded ({store.status === "failed" ? "it never became ready" : "no ready time"})</>;
}

function BackLink() {
  return (
    <Link to="/" className="text-sm text-indigo-700 underline underline-offset-2">
      ← All stores
    </Link>
  );
}

export function StoreDetailPage() {
  const { id = "" } = useParams();
  const store = useStore(id);
  // Read again whenever the store's status changes (storeQueries.events).
  const events = useStoreEvents(id, store.data?.status);
  const [confirming, setConfirming] = useState(false);

  if (store.isPending) {
    return (
      <p role="status" className="text-slate-600">
        Loading store {id}…
      </p>
    );
  }
  if (store.isError) {
    const gone = store.error instanceof ApiError && store.error.status === 404;
    return (
      <div className="space-y-4">
        <BackLink />
        {gone ? (
          <div className="rounded-lg bg-white p-6">
            <h1 className="text-xl font-bold text-slate-900">Store not found</h1>
            <p className="mt-1 text-slate-600">
              There is no store <code className="font-mono">{id}</code> among yours. It may have been deleted; go back to
              the list to see the stores you have.
            </p>
          </div>
        ) : (
          <ErrorPanel what="The store could not be loaded" error={store.error} onRetry={() => void store.refetch()} />
        )}
      </div>
    );
  }

  const s = store.data;
  const gone = s.status === "deleted";
  return (
    <div className="space-y-6">
      <BackLink />
      <div className="flex flex-wrap items-start justify-between gap-3">
        <div className="min-w-0">
          <h1 className="text-2xl font-bold break-words text-slate-900">{s.name}</h1>
          <p className="text-sm text-slate-600">
            {engineName(s.type)} · <span className="font-mono">{s.id}</span>
          </p>
        </div>
        <StatusBadge status={s.status} />
      </div>

      {s.status === "failed" && <FailureReason reason={s.failure_reason} />}
      {gone && <p className="rounded-md bg-slate-200 p-3 text-slate-800">This store has been deleted; nothing of it is left in the cluster.</p>}

      <section aria-labelledby="overview-heading" className="rounded-lg border border-slate-200 bg-white p-4">
        <h2 id="overview-heading" className="text-base font-semibold text-slate-900">
          Overview
        </h2>
        <dl className="mt-3 grid grid-cols-1 gap-x-6 gap-y-2 text-sm sm:grid-cols-[auto_1fr]">
          <dt className="font-medium text-slate-700">Created</dt>
          <dd>
            <RelativeTime iso={s.created_at} />
          </dd>
          <dt className="font-medium text-slate-700">Provisioning time</dt>
          <dd data-testid="provisioning-time">
            <ProvisioningTime store={s} />
          </dd>
          <dt className="font-medium text-slate-700">Namespace</dt>
          <dd className="font-mono">{s.namespace}</dd>
          {(["storefront", "admin"] as const).map((which) => (
            <Fragment key={which}>
              <dt className="font-medium text-slate-700">{which === "storefront" ? "Storefront" : "Admin"}</dt>
              <dd className="break-all">
                <ExternalLink href={s.urls[which]} context={`(${which} of ${s.name})`}>
                  {s.urls[which]}
                </ExternalLink>
              </dd>
            </Fragment>
          ))}
        </dl>
      </section>

      <section aria-labelledby="credentials-heading" className="rounded-lg border border-slate-200 bg-white p-4">
        <h2 id="credentials-heading" className="text-base font-semibold text-slate-900">
          Admin credentials
        </h2>
        <div className="mt-3">
          <CredentialsPanel storeId={s.id} available={s.status === "ready" || s.status === "provisioning" || s.status === "failed"} />
        </div>
      </section>

      <section aria-labelledby="activity-heading" className="rounded-lg border border-slate-200 bg-white p-4">
        <h2 id="activity-heading" className="text-base font-semibold text-slate-900">
          Activity
        </h2>
        <div className="mt-3">
          {events.isPending && (
            <p role="status" className="text-sm text-slate-600">
              Loading the activity log…
            </p>
          )}
          {events.isError && (
            <ErrorPanel what="The activity log could not be loaded" error={events.error} onRetry={() => void events.refetch()} />
          )}
          {events.data && <ActivityLog events={events.data} />}
        </div>
      </section>

      {!gone && (
        <div>
          <button
            type="button"
            className="btn-danger-outline"
            disabled={s.status === "deleting"}
            onClick={() => {
              setConfirming(true);
            }}
          >
            <TrashIcon />
            {s.status === "deleting" ? "Deleting…" : "Delete store"}
          </button>
        </div>
      )}
      <DeleteStoreDialog
        store={confirming ? s : null}
        onClose={() => {
          setConfirming(false);
        }}
      />
    </div>
  );
}

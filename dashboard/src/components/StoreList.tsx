import { Link } from "react-router";
import type { Store } from "../api/types";
import { engineName } from "./CreateStoreDialog";
import { ExternalIcon, TrashIcon } from "./icons";
import { RelativeTime } from "./RelativeTime";
import { StatusBadge } from "./StatusBadge";

/**
 * A link that opens in a new tab. The accessible name starts with the visible
 * text (WCAG 2.5.3) and adds `context` and the new-tab warning for screen readers.
 */
export function ExternalLink({ href, children, context = "" }: { href: string; children: string; context?: string }) {
  return (
    <a
      href={href}
      target="_blank"
      rel="noopener noreferrer"
      className="inline-flex items-center gap-1 break-all text-indigo-700 underline underline-offset-2 hover:text-indigo-900"
    >
      {children}{" "}
      <span className="sr-only">{context === "" ? "(opens in a new tab)" : `${context} (opens in a new tab)`}</span>
      <ExternalIcon className="h-3.5 w-3.5 shrink-0" />
    </a>
  );
}

export function FailureReason({ reason }: { reason: string | null | undefined }) {
  return (
    <p className="rounded-md bg-red-50 px-3 py-2 text-sm text-red-900 ring-1 ring-red-200 ring-inset">
      <span className="font-semibold">Why it failed: </span>
      {reason ?? "The API did not record a reason. Open the store's activity log for the last step it reached."}
    </p>
  );
}

function StoreRow({ store, onDelete }: { store: Store; onDelete: (store: Store) => void }) {
  const deleting = store.status === "deleting" || store.status === "deleted";
  return (
    <li className="rounded-lg border border-slate-200 bg-white p-4 shadow-sm" data-store-id={store.id}>
      <div className="flex flex-wrap items-start justify-between gap-2">
        <div className="min-w-0">
          <h3 className="text-base font-semibold break-words text-slate-900">
            <Link to={`/stores/${store.id}`} className="hover:underline">
              {store.name}
            </Link>
          </h3>
          <p className="text-sm text-slate-600">
            {engineName(store.type)} · <span className="font-mono">{store.id}</span> · created{" "}
            <RelativeTime iso={store.created_at} />
          </p>
        </div>
        <StatusBadge status={store.status} />
      </div>

      {store.status === "failed" && (
        <div className="mt-3">
          <FailureReason reason={store.failure_reason} />
        </div>
      )}

      <div className="mt-3 flex flex-wrap items-center justify-between gap-3">
        <div className="flex flex-wrap gap-x-4 gap-y-1 text-sm">
          {!deleting && (
            <ExternalLink href={store.urls.storefront} context={`of ${store.name}`}>
              Storefront
            </ExternalLink>
          )}
          {!deleting && (
            <ExternalLink href={store.urls.admin} context={`of ${store.name}`}>
              Admin
            </ExternalLink>
          )}
          <Link to={`/stores/${store.id}`} className="text-indigo-700 underline underline-offset-2 hover:text-indigo-900">
            Details{" "}
            <span className="sr-only">and activity of {store.name}</span>
          </Link>
        </div>
        <button
          type="button"
          className="btn-danger-outline"
          disabled={deleting}
          onClick={() => {
            onDelete(store);
          }}
        >
          <TrashIcon />
          {deleting ? "Deleting…" : "Delete"}{" "}
          <span className="sr-only">store {store.name}</span>
        </button>
      </div>
    </li>
  );
}

export function StoreList({ stores, onDelete }: { stores: Store[]; onDelete: (store: Store) => void }) {
  return (
    <ul aria-label="Your stores" className="space-y-3">
      {stores.map((store) => (
        <StoreRow key={store.id} store={store} onDelete={onDelete} />
      ))}
    </ul>
  );
}

import { useState } from "react";
import { useCredentials } from "../api/queries";
import { ErrorPanel } from "./ErrorPanel";
import { CopyIcon } from "./icons";

function CopyButton({ value, what }: { value: string; what: string }) {
  const [state, setState] = useState<"idle" | "copied" | "failed">("idle");
  return (
    <span className="inline-flex items-center gap-2">
      <button
        type="button"
        className="btn-secondary px-2 py-1 text-xs"
        aria-label={`Copy ${what}`}
        onClick={() => {
          navigator.clipboard.writeText(value).then(
            () => {
              setState("copied");
            },
            () => {
              setState("failed");
            },
          );
        }}
      >
        <CopyIcon className="h-3.5 w-3.5" />
        Copy
      </button>
      <span role="status" className="text-xs text-slate-700">
        {state === "copied" ? `Copied ${what}` : state === "failed" ? "Copy failed: select the text and copy it by hand" : ""}
      </span>
    </span>
  );
}

export function CredentialsPanel({ storeId, available }: { storeId: string; available: boolean }) {
  const [revealed, setRevealed] = useState(false);
  const credentials = useCredentials(storeId, revealed);
  const regionId = `credentials-${storeId}`;

  if (!available) {
    return <p className="text-sm text-slate-600">Credentials are available while the store exists and is not being deleted.</p>;
  }
  return (
    <div className="space-y-3">
      <button
        type="button"
        className="btn-secondary"
        aria-expanded={revealed}
        aria-controls={regionId}
        onClick={() => {
          setRevealed((r) => !r);
        }}
      >
        {revealed ? "Hide admin credentials" : "Reveal admin credentials"}
      </button>
      <div id={regionId}>
        {revealed && credentials.isPending && (
          <p role="status" className="text-sm text-slate-600">
            Reading the store's secret…
          </p>
        )}
        {revealed && credentials.isError && (
          <ErrorPanel what="Could not read the credentials" error={credentials.error} onRetry={() => void credentials.refetch()} />
        )}
        {revealed && credentials.data && (
          <dl className="grid grid-cols-1 gap-x-4 gap-y-2 rounded-md bg-slate-50 p-3 text-sm sm:grid-cols-[auto_1fr]">
            <dt className="font-medium text-slate-700">Admin user</dt>
            <dd className="flex flex-wrap items-center gap-2">
              <code className="font-mono break-all" data-testid="admin-user">{credentials.data.admin_user}</code>
              <CopyButton value={credentials.data.admin_user} what="admin user" />
            </dd>
            <dt className="font-medium text-slate-700">Password</dt>
            <dd className="flex flex-wrap items-center gap-2">
              <code className="font-mono break-all" data-testid="admin-password">{credentials.data.admin_password}</code>
              <CopyButton value={credentials.data.admin_password} what="password" />
            </dd>
            <dt className="font-medium text-slate-700">Sign in at</dt>
            <dd>
              <a className="break-all text-indigo-700 underline" href={credentials.data.admin_url} target="_blank" rel="noopener noreferrer">
                {credentials.data.admin_url}
              </a>
            </dd>
          </dl>
        )}
      </div>
    </div>
  );
}

import { ApiError, NetworkError } from "../api/client";
import { AlertIcon } from "./icons";

/** What to tell the user about a failed request, and what they can do. */
export function describeError(error: unknown): { title: string; detail: string; hint: string | null } {
  if (error instanceof NetworkError) {
    return {
      title: "Could not reach the Storefleet API",
      detail: "The request to /api got no answer.",
      hint: "Check that the gateway is running (`make dev` starts it locally) and that you opened the dashboard through it, then retry.",
    };
  }
  if (error instanceof ApiError) {
    const title = error.problem?.title ?? `Request failed (${error.status})`;
    const detail = error.problem?.detail ?? error.message;
    const hint =
      error.status >= 500
        ? "This is a problem on the server side. Retry in a moment; if it keeps failing, the functions' logs say why."
        : null;
    return { title, detail, hint };
  }
  return { title: "Something went wrong", detail: error instanceof Error ? error.message : String(error), hint: null };
}

export function ErrorPanel({ error, onRetry, what }: { error: unknown; onRetry?: () => void; what?: string }) {
  const { title, detail, hint } = describeError(error);
  return (
    <div role="alert" className="rounded-lg border border-red-300 bg-red-50 p-4 text-red-950">
      <div className="flex items-start gap-2">
        <AlertIcon className="mt-0.5 h-5 w-5 shrink-0" />
        <div className="min-w-0 space-y-1">
          <p className="font-semibold">
            {what !== undefined ? `${what}: ` : ""}
            {title}
          </p>
          <p className="break-words">{detail}</p>
          {hint !== null && <p className="text-sm">{hint}</p>}
          {onRetry !== undefined && (
            <button type="button" onClick={onRetry} className="btn-secondary mt-2">
              Retry
            </button>
          )}
        </div>
      </div>
    </div>
  );
}

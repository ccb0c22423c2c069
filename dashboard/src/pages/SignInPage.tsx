import { useMutation } from "@tanstack/react-query";
import { useId, useState, type SyntheticEvent } from "react";
import { Navigate, useLocation, useNavigate } from "react-router";
import { ApiError, createApiClient } from "../api/client";
import { useSession } from "../auth/session";
import { ErrorPanel } from "../components/ErrorPanel";

function signInError(error: unknown): unknown {
  if (error instanceof ApiError && error.status === 401) {
    return new ApiError(401, {
      type: "about:blank",
      title: "The API did not accept this token",
      status: 401,
      detail:
        "Check that you pasted the whole token. Administrators create tokens with POST /api/users; the first admin's token is STOREFLEET_BOOTSTRAP_ADMIN_TOKEN.",
    }, error.message);
  }
  return error;
}

export function SignInPage() {
  const { token, notice, signIn } = useSession();
  const navigate = useNavigate();
  const location = useLocation();
  const inputId = useId();
  const helpId = useId();
  const [value, setValue] = useState("");
  // Check the token against /api/me before keeping it.
  const check = useMutation({
    mutationFn: (candidate: string) => createApiClient(candidate, () => undefined).request("get", "/api/me"),
  });

  const from = (location.state as { from?: string } | null)?.from ?? "/";
  if (token !== null) return <Navigate to={from} replace />;

  function submit(event: SyntheticEvent<HTMLFormElement>) {
    event.preventDefault();
    const candidate = value.trim();
    if (candidate === "") return;
    check.mutate(candidate, {
      onSuccess: () => {
        signIn(candidate);
        void navigate(from, { replace: true });
      },
    });
  }

  return (
    <div className="flex min-h-screen items-center justify-center bg-slate-100 px-4">
      <main className="w-full max-w-sm rounded-xl bg-white p-6 shadow">
        <h1 className="text-xl font-bold text-slate-900">Sign in to Storefleet</h1>
        <p className="mt-1 text-sm text-slate-600">Your stores, their status and credentials, in one place.</p>
        {notice !== null && (
          <p role="status" className="mt-4 rounded-md bg-amber-50 p-3 text-sm text-amber-900 ring-1 ring-amber-200 ring-inset">
            {notice}
          </p>
        )}
        <form onSubmit={submit} className="mt-5 space-y-4" noValidate>
          <div>
            <label htmlFor={inputId} className="block text-sm font-medium text-slate-800">
              API token
            </label>
            <input
              id={inputId}
              type="password"
              autoComplete="off"
              spellCheck={false}
              required
              aria-describedby={helpId}
              value={value}
              onChange={(e) => {
                setValue(e.target.value);
                check.reset();
              }}
              className="mt-1 block w-full rounded-md border border-slate-400 px-3 py-2 font-mono text-slate-900 focus:outline-2 focus:outline-indigo-600"
            />
            <p id={helpId} className="mt-1 text-xs text-slate-600">
              Kept in this tab only (session storage) and sent as a bearer token to this site's /api. Closing the tab or
              signing out forgets it.
            </p>
          </div>
          {check.isError && <ErrorPanel error={signInError(check.error)} />}
          <button type="submit" className="btn-primary w-full justify-center" disabled={value.trim() === "" || check.isPending}>
            {check.isPending ? "Checking…" : "Sign in"}
          </button>
        </form>
      </main>
    </div>
  );
}

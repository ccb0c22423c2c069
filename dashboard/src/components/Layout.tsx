import { Link, Outlet } from "react-router";
import { useDashboardConfig, useMe } from "../api/queries";
import { useSession } from "../auth/session";

export function Layout() {
  const { signOut } = useSession();
  const me = useMe();
  const mailUrl = useDashboardConfig().data?.mailUrl ?? null;
  return (
    <div className="min-h-screen bg-slate-100">
      <a href="#main" className="sr-only focus:not-sr-only focus:absolute focus:left-2 focus:top-2 focus:rounded focus:bg-white focus:p-2">
        Skip to content
      </a>
      <header className="border-b border-slate-200 bg-white">
        <div className="mx-auto flex max-w-5xl items-center justify-between gap-3 px-4 py-3">
          <Link to="/" className="text-lg font-bold text-slate-900">
            Storefleet
          </Link>
          <div className="flex items-center gap-3 text-sm">
            {me.data && (
              <span className="hidden text-slate-700 sm:inline">
                Signed in as <span className="font-semibold">{me.data.name}</span>
              </span>
            )}
            {mailUrl !== null && (
              // Development only: the mail catcher where the stores' order emails land.
              <a
                href={mailUrl}
                target="_blank"
                rel="noopener noreferrer"
                className="btn-secondary"
                title="Order emails caught by the local mail catcher (opens in a new tab)"
              >
                Mail
              </a>
            )}
            <button
              type="button"
              className="btn-secondary"
              onClick={() => {
                signOut();
              }}
            >
              Sign out
            </button>
          </div>
        </div>
      </header>
      <main id="main" className="mx-auto max-w-5xl px-4 py-6">
        <Outlet />
      </main>
    </div>
  );
}

import { Link } from "react-router";

export function NotFoundPage() {
  return (
    <div className="rounded-lg bg-white p-6">
      <h1 className="text-xl font-bold text-slate-900">Page not found</h1>
      <p className="mt-1 text-slate-600">
        This address is not part of the dashboard.{" "}
        <Link to="/" className="text-indigo-700 underline">
          Go to your stores
        </Link>
        .
      </p>
    </div>
  );
}

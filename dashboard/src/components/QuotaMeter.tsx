import type { Me } from "../api/types";

export function atQuota(me: Me | undefined): boolean {
  return me !== undefined && me.active_stores >= me.max_stores;
}

export function QuotaMeter({ me }: { me: Me }) {
  const used = Math.min(1, me.max_stores === 0 ? 1 : me.active_stores / me.max_stores);
  const full = atQuota(me);
  return (
    <div className="min-w-40">
      <p className="text-sm text-slate-700" data-testid="quota">
        <span className="font-semibold text-slate-900">{me.active_stores}</span> of{" "}
        <span className="font-semibold text-slate-900">{me.max_stores}</span> stores
      </p>
      <div className="mt-1 h-1.5 w-full rounded-full bg-slate-200" aria-hidden="true">
        <div
          className={`h-1.5 rounded-full ${full ? "bg-red-600" : "bg-indigo-600"}`}
          style={{ width: `${Math.round(used * 100)}%` }}
        />
      </div>
    </div>
  );
}

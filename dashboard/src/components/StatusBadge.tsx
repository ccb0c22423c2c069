import type { StoreStatus } from "../api/types";
import { CheckIcon, MinusCircleIcon, SpinnerIcon, TrashIcon, XCircleIcon } from "./icons";

// Colour, icon and word together: the status never depends on colour alone.
const LOOK: Record<StoreStatus, { label: string; classes: string; icon: (c: string) => React.JSX.Element }> = {
  provisioning: {
    label: "Provisioning",
    classes: "bg-sky-100 text-sky-900 ring-sky-300",
    icon: (c) => <SpinnerIcon className={`${c} motion-safe:animate-spin`} />,
  },
  ready: { label: "Ready", classes: "bg-emerald-100 text-emerald-900 ring-emerald-300", icon: (c) => <CheckIcon className={c} /> },
  failed: { label: "Failed", classes: "bg-red-100 text-red-900 ring-red-300", icon: (c) => <XCircleIcon className={c} /> },
  deleting: {
    label: "Deleting",
    classes: "bg-amber-100 text-amber-900 ring-amber-300",
    icon: (c) => <TrashIcon className={`${c} motion-safe:animate-pulse`} />,
  },
  deleted: { label: "Deleted", classes: "bg-slate-100 text-slate-800 ring-slate-300", icon: (c) => <MinusCircleIcon className={c} /> },
};

export function statusLabel(status: StoreStatus): string {
  return LOOK[status].label;
}

export function StatusBadge({ status }: { status: StoreStatus }) {
  const look = LOOK[status];
  return (
    <span
      className={`inline-flex items-center gap-1 rounded-full px-2 py-0.5 text-xs font-semibold ring-1 ring-inset ${look.classes}`}
      data-status={status}
    >
      {look.icon("h-3.5 w-3.5 shrink-0")}
      {look.label}
    </span>
  );
}

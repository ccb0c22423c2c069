import type { StoreEvent } from "../api/types";
import { formatExact } from "../lib/time";

export function ActivityLog({ events }: { events: StoreEvent[] }) {
  if (events.length === 0) {
    return <p className="text-sm text-slate-600">No activity recorded yet. Steps appear here as the functions handle them.</p>;
  }
  return (
    <ol aria-label="Activity log" className="space-y-2 border-l-2 border-slate-200 pl-4">
      {events.map((event) => (
        <li key={event.id} className="text-sm">
          <p className="text-slate-900">
            <span className="font-mono text-xs text-slate-600">{event.kind}</span>{" "}
            {event.message !== event.kind && event.message}
          </p>
          {event.created_at !== null && (
            <time dateTime={event.created_at} className="text-xs text-slate-600">
              {formatExact(event.created_at)}
            </time>
          )}
        </li>
      ))}
    </ol>
  );
}

import type { StoreEvent } from "../api/types";
import { formatDuration, formatExact } from "../lib/time";

/** Seconds from the first step to this one, for "+2 min 5 s". */
function offsets(events: StoreEvent[]): (number | null)[] {
  const start = Date.parse(events[0]?.at ?? "");
  return events.map((e) => {
    const at = Date.parse(e.at);
    return Number.isNaN(at) || Number.isNaN(start) ? null : (at - start) / 1000;
  });
}

/** An entry of the log as shown: consecutive repeats folded into one. */
interface Line extends StoreEvent {
  /** Position of the first entry folded into this line: the log only grows at its end, so it is stable. */
  position: number;
  times: number;
}

/**
 * Consecutive entries with the same kind and message (a step reported again
 * while the store waits) read as one line with a count, at the last time.
 */
function collapse(events: StoreEvent[]): Line[] {
  const out: Line[] = [];
  events.forEach((event, position) => {
    const last = out.at(-1);
    if (last !== undefined && last.kind === event.kind && last.message === event.message) {
      out[out.length - 1] = { ...event, position: last.position, times: last.times + 1 };
    } else {
      out.push({ ...event, position, times: 1 });
    }
  });
  return out;
}

export function ActivityLog({ events: all }: { events: StoreEvent[] }) {
  const events = collapse(all);
  if (events.length === 0) {
    return <p className="text-sm text-slate-600">No activity recorded yet. Steps appear here as the functions handle them.</p>;
  }
  const since = offsets(events);
  return (
    <ol aria-label="Activity log" className="space-y-2 border-l-2 border-slate-200 pl-4">
      {events.map((event, i) => (
        <li key={event.position} className="text-sm" data-kind={event.kind}>
          <p className="text-slate-900">
            <span className="font-mono text-xs text-slate-600">{event.kind}</span>{" "}
            {event.message !== event.kind && event.message}
            {event.times > 1 && <span className="text-slate-600"> (×{event.times})</span>}
          </p>
          <p className="text-xs text-slate-600">
            <time dateTime={event.at}>{formatExact(event.at)}</time>
            {i > 0 && since[i] != null && <> · +{formatDuration(since[i] ?? 0)} after the first step</>}
          </p>
        </li>
      ))}
    </ol>
  );
}

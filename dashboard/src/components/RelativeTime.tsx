import { formatExact, formatRelative } from "../lib/time";
import { useNow } from "../lib/useNow";

/** "5 minutes ago", with the exact time on hover and for assistive technology. */
export function RelativeTime({ iso }: { iso: string }) {
  const now = useNow();
  const exact = formatExact(iso);
  return (
    <time dateTime={iso} title={exact} className="underline decoration-dotted underline-offset-2">
      {formatRelative(iso, now)}
      <span className="sr-only"> ({exact})</span>
    </time>
  );
}

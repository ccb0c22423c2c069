-- The sweep's claim: a ping event runs the sweep only if it takes this row
-- (claimed_at older than STOREFLEET_SWEEP_INTERVAL_SECONDS, or no row yet).
-- Every ping event used to run a sweep of its own, so N ping events — the
-- PingSource's, its redeliveries, or forged ones with fresh ids — ran N
-- sweeps of every store. Now at most one runs per interval, whatever the
-- number of ping events; a sweep that could not finish gives its claim back
-- (holder) so the broker's retry of that tick runs it.
CREATE TABLE sweep_claim (
    job text PRIMARY KEY,
    claimed_at timestamptz NOT NULL,
    holder uuid NOT NULL
);

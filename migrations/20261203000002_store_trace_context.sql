-- The W3C trace context of the operation under way on a store (shared/src/
-- telemetry/store_trace.rs): events that carry none of the store's (the
-- ApiServerSource's, the sweep's) continue it. Not a secret: trace and span
-- ids only.
ALTER TABLE stores
    ADD COLUMN trace_parent text CHECK (length(trace_parent) <= 55),
    ADD COLUMN trace_state text CHECK (length(trace_state) <= 512);

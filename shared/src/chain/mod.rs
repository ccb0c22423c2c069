//! Receiving CloudEvents: binary-mode parsing, deduplication on
//! (`source`, `id`) in `processed_events`, metrics.
//!
//! Owned by the WIRING (event chain) engineer; the core API only emits events
//! (see [`crate::events`]).

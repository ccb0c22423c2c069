-- One helm operation per store at a time, across every replica of
-- create-store and delete-store: a handler takes the lease before its helm
-- step (a guarded UPDATE) and clears it after. A redelivered or re-driven
-- event finding the lease taken is answered 429 and retried later, so two
-- `helm upgrade --install` of one first release never race ("release: already
-- exists"), and a teardown never runs under an install. A crashed process'
-- lease simply expires (longer than any helm bound).
ALTER TABLE stores ADD COLUMN operation_lease_until timestamptz;

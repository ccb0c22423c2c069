-- The operation lease becomes short and renewed: the holder (a random id per
-- operation) extends it every few seconds while its helm runs, and only the
-- holder renews or clears it. A crashed process' lease now lapses within
-- the short lease term instead of outlasting every helm bound, so a store
-- whose create-store was killed mid-provisioning is taken up again by the
-- next delivery within seconds. A lease taken before this migration (no
-- holder) simply runs out at its `operation_lease_until`.
ALTER TABLE stores ADD COLUMN operation_lease_holder uuid;

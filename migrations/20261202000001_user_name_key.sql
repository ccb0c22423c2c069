-- User names are unique as people read them, not as bytes: `Alice`, `alice`
-- and `ＡＬＩＣＥ` (fullwidth) are one name. The functions compute the key
-- (Unicode compatibility caseless form: NFKC + case folding,
-- storefleet_shared::auth::name_key) and the unique index is the authority.
ALTER TABLE users ADD COLUMN name_key text;

-- Existing users: PostgreSQL's NFKC + lower() gives the functions' key for
-- every name except the few whose case folding is not lowercasing (`ß` folds
-- to `ss`); such a name keeps this key.
UPDATE users SET name_key = lower(normalize(name, NFKC));

-- Names that already collide (allowed before this migration): the oldest
-- user keeps the key; the others keep their name and token, with their id in
-- the key, so no new user can take any of these spellings.
UPDATE users AS later SET name_key = later.name_key || '#' || later.id
FROM users AS earlier
WHERE earlier.name_key = later.name_key
  AND (earlier.created_at, earlier.id) < (later.created_at, later.id);

ALTER TABLE users ALTER COLUMN name_key SET NOT NULL;
-- (users_name_key is already the name of UNIQUE (name)'s index)
CREATE UNIQUE INDEX users_name_key_unique ON users (name_key);

-- The platform database of Storefleet (DESIGN.md §5).
-- Constraints make illegal states unrepresentable: the functions may be
-- buggy or race each other, the database still refuses a store without an
-- owner, an unknown status, or two live stores in one namespace.

CREATE TABLE users (
    id          uuid        PRIMARY KEY,
    name        text        NOT NULL UNIQUE
                            CHECK (char_length(name) BETWEEN 1 AND 64 AND name !~ '[[:cntrl:]]'),
    -- sha256 of the bearer token, lowercase hex. The token itself is never stored.
    token_hash  text        NOT NULL UNIQUE CHECK (token_hash ~ '^[0-9a-f]{64}$'),
    max_stores  integer     NOT NULL DEFAULT 5 CHECK (max_stores >= 0),
    is_admin    boolean     NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE stores (
    id              text        PRIMARY KEY CHECK (id ~ '^[a-z0-9]{8}$'),
    owner_id        uuid        NOT NULL REFERENCES users (id),
    name            text        NOT NULL
                                CHECK (char_length(name) BETWEEN 1 AND 64 AND name !~ '[[:cntrl:]]'),
    type            text        NOT NULL CHECK (type IN ('woocommerce', 'medusa')),
    namespace       text        NOT NULL CHECK (namespace = 'store-' || id),
    status          text        NOT NULL DEFAULT 'provisioning'
                                CHECK (status IN ('provisioning', 'ready', 'failed', 'deleting', 'deleted')),
    url             text        NOT NULL,
    failure_reason  text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    ready_at        timestamptz,
    deleted_at      timestamptz,
    idempotency_key text        CHECK (char_length(idempotency_key) BETWEEN 1 AND 255),
    -- the request body the idempotency key was first used with (same key +
    -- different body is refused, not silently answered with the first store)
    request_hash    text,
    -- the columns agree with the status
    CHECK ((status = 'deleted') = (deleted_at IS NOT NULL)),
    CHECK (status <> 'ready' OR ready_at IS NOT NULL),
    CHECK (status <> 'failed' OR failure_reason IS NOT NULL),
    CHECK ((idempotency_key IS NULL) = (request_hash IS NULL))
);

-- A namespace belongs to one live store; a deleted store's row stays as
-- history and never blocks anything.
CREATE UNIQUE INDEX stores_namespace_live ON stores (namespace) WHERE status <> 'deleted';
-- An idempotency key names one request of one owner while its store lives.
-- Once the store is deleted the key is free again: reusing it creates a new store.
CREATE UNIQUE INDEX stores_owner_idempotency_key_live
    ON stores (owner_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL AND status <> 'deleted';
-- GET /api/stores: the caller's live stores, newest first, keyset pagination.
CREATE INDEX stores_owner_page ON stores (owner_id, created_at DESC, id DESC) WHERE status <> 'deleted';
-- the sweep: stores in a state that a handler still has to move on
CREATE INDEX stores_status_active ON stores (status, updated_at) WHERE status IN ('provisioning', 'deleting');

-- The activity log: append-only; one row per step a store went through.
CREATE TABLE store_events (
    id       bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    store_id text        NOT NULL REFERENCES stores (id),
    at       timestamptz NOT NULL DEFAULT now(),
    kind     text        NOT NULL CHECK (kind ~ '^[a-z][a-z0-9_.-]{0,63}$'),
    message  text        NOT NULL,
    detail   jsonb
);
CREATE INDEX store_events_store ON store_events (store_id, id);

CREATE FUNCTION store_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'store_events is append-only';
END $$;
CREATE TRIGGER store_events_append_only BEFORE UPDATE OR DELETE ON store_events
    FOR EACH ROW EXECUTE FUNCTION store_events_append_only();

-- CloudEvents already handled: (source, id) identifies an event (CloudEvents 1.0).
CREATE TABLE processed_events (
    source       text        NOT NULL,
    id           text        NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source, id)
);

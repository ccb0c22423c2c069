//! The schema refuses illegal states by itself (migrations/): a buggy or
//! racing function cannot write a store the rest of the system would
//! misread. Each case is one statement against a real PostgreSQL that must
//! fail with the named constraint, next to the legal statement it differs from.

#![allow(
    clippy::unwrap_used,
    reason = "test code: clippy.toml's allow-unwrap-in-tests misses the helpers of tests/ (rust-clippy#11119)"
)]

use sqlx::PgPool;
use storefleet_shared::testing;
use uuid::Uuid;

const INSERT: &str = "INSERT INTO stores (id, owner_id, name, type, namespace, url, status, \
     failure_reason, ready_at, deleted_at, idempotency_key, request_hash)
     VALUES ($1, $2, $3, $4, $5, 'http://x.localhost', $6, $7, $8, $9, $10, $11)";

/// A store row; every field can be overridden to make it illegal.
#[derive(Clone)]
struct Row {
    id: String,
    owner: Uuid,
    name: String,
    engine: String,
    namespace: String,
    status: String,
    failure_reason: Option<String>,
    ready: bool,
    deleted: bool,
    idempotency_key: Option<String>,
}

impl Row {
    fn new(id: &str, owner: Uuid) -> Self {
        Self {
            id: id.into(),
            owner,
            name: "Shop".into(),
            engine: "woocommerce".into(),
            namespace: format!("store-{id}"),
            status: "provisioning".into(),
            failure_reason: None,
            ready: false,
            deleted: false,
            idempotency_key: None,
        }
    }

    async fn insert(&self, pool: &PgPool) -> Result<(), sqlx::Error> {
        let now = chrono::Utc::now();
        sqlx::query(INSERT)
            .bind(&self.id)
            .bind(self.owner)
            .bind(&self.name)
            .bind(&self.engine)
            .bind(&self.namespace)
            .bind(&self.status)
            .bind(&self.failure_reason)
            .bind(self.ready.then_some(now))
            .bind(self.deleted.then_some(now))
            .bind(&self.idempotency_key)
            .bind(self.idempotency_key.as_ref().map(|_| "hash"))
            .execute(pool)
            .await
            .map(|_| ())
    }
}

#[track_caller]
fn refused(result: Result<(), sqlx::Error>, what: &str) {
    match result {
        Err(sqlx::Error::Database(err)) => assert!(
            err.is_check_violation() || err.is_unique_violation() || err.is_foreign_key_violation(),
            "{what}: refused for another reason: {err}"
        ),
        other => panic!("{what}: expected a constraint violation, got {other:?}"),
    }
}

async fn owner(pool: &PgPool, name: &str) -> Uuid {
    testing::user(pool, name, 5, false).await.0.id
}

#[sqlx::test(migrations = "../migrations")]
async fn a_store_row_must_be_consistent(pool: PgPool) {
    let alice = owner(&pool, "alice").await;
    Row::new("legal001", alice).insert(&pool).await.unwrap();

    let cases: Vec<(&str, Row)> = vec![
        (
            "an unknown status",
            Row {
                status: "starting".into(),
                ..Row::new("bad00001", alice)
            },
        ),
        (
            "an unknown type",
            Row {
                engine: "shopify".into(),
                ..Row::new("bad00002", alice)
            },
        ),
        ("an id that is not an id", Row::new("../etc", alice)),
        (
            "a namespace not of its id",
            Row {
                namespace: "kube-system".into(),
                ..Row::new("bad00003", alice)
            },
        ),
        (
            "a name with a control character",
            Row {
                name: "a\u{7}b".into(),
                ..Row::new("bad00004", alice)
            },
        ),
        (
            "an owner that does not exist",
            Row::new("bad00005", Uuid::new_v4()),
        ),
        (
            "ready without ready_at",
            Row {
                status: "ready".into(),
                ..Row::new("bad00006", alice)
            },
        ),
        (
            "failed without a reason",
            Row {
                status: "failed".into(),
                ..Row::new("bad00007", alice)
            },
        ),
        (
            "deleted without deleted_at",
            Row {
                status: "deleted".into(),
                ..Row::new("bad00008", alice)
            },
        ),
        (
            "deleted_at on a live store",
            Row {
                deleted: true,
                ..Row::new("bad00009", alice)
            },
        ),
    ];
    for (what, row) in cases {
        refused(row.insert(&pool).await, what);
    }
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM stores")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(count, 1, "only the legal row was written");
}

#[sqlx::test(migrations = "../migrations")]
async fn a_namespace_belongs_to_one_live_store(pool: PgPool) {
    let alice = owner(&pool, "alice").await;
    // The primary key already makes ids unique; the namespace index is what
    // keeps a deleted row from blocking nothing and a live one from sharing.
    sqlx::query(
        "INSERT INTO stores (id, owner_id, name, type, namespace, url, status, deleted_at)
         VALUES ('gone0001', $1, 'Old', 'woocommerce', 'store-gone0001', 'http://x', 'deleted', now())",
    )
    .bind(alice)
    .execute(&pool)
    .await
    .unwrap();
    let indexes: Vec<String> = sqlx::query_scalar(
        "SELECT indexname FROM pg_indexes WHERE tablename = 'stores' AND indexdef LIKE '%UNIQUE%'
         AND indexdef LIKE '%WHERE%status <> ''deleted''%'",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert!(
        indexes.contains(&"stores_namespace_live".to_owned())
            && indexes.contains(&"stores_owner_idempotency_key_live".to_owned()),
        "partial unique indexes on live stores: {indexes:?}"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn an_idempotency_key_names_one_live_store_per_owner(pool: PgPool) {
    let alice = owner(&pool, "alice").await;
    let bob = owner(&pool, "bob").await;
    let keyed = |id: &str, who: Uuid| Row {
        idempotency_key: Some("key-1".into()),
        ..Row::new(id, who)
    };
    keyed("keyed001", alice).insert(&pool).await.unwrap();
    refused(
        keyed("keyed002", alice).insert(&pool).await,
        "the same key twice for one owner",
    );
    // another owner's key is another key
    keyed("keyed003", bob).insert(&pool).await.unwrap();
    // once the store is deleted, the key is free again
    sqlx::query("UPDATE stores SET status = 'deleted', deleted_at = now() WHERE id = 'keyed001'")
        .execute(&pool)
        .await
        .unwrap();
    keyed("keyed004", alice).insert(&pool).await.unwrap();
}

#[sqlx::test(migrations = "../migrations")]
async fn the_activity_log_is_append_only(pool: PgPool) {
    let alice = owner(&pool, "alice").await;
    Row::new("logged01", alice).insert(&pool).await.unwrap();
    sqlx::query(
        "INSERT INTO store_events (store_id, kind, message) VALUES ('logged01', 'requested', 'x')",
    )
    .execute(&pool)
    .await
    .unwrap();
    for statement in [
        "UPDATE store_events SET message = 'rewritten'",
        "DELETE FROM store_events",
    ] {
        let err = sqlx::query(statement).execute(&pool).await.unwrap_err();
        assert!(
            err.to_string().contains("append-only"),
            "{statement}: {err}"
        );
    }
    let bad_kind = sqlx::query(
        "INSERT INTO store_events (store_id, kind, message) VALUES ('logged01', 'Not A Kind', 'x')",
    )
    .execute(&pool)
    .await
    .map(|_| ());
    refused(bad_kind, "an activity kind that is not a slug");
}

//! Migration 20261202000001 (users.name_key) on a database that already has
//! users whose names collide once case is ignored — allowed before it. The
//! migration must apply, every existing user keep their name and token, and
//! no new user take any spelling of a taken name.

#![allow(
    clippy::unwrap_used,
    reason = "test code: clippy.toml's allow-unwrap-in-tests misses the helpers of tests/ (rust-clippy#11119)"
)]

use std::borrow::Cow;

use sqlx::PgPool;
use sqlx::migrate::Migrator;
use storefleet_shared::auth;
use storefleet_shared::db::MIGRATOR;
use uuid::Uuid;

const NAME_KEY_MIGRATION: i64 = 20261202000001;

#[sqlx::test(migrations = false)]
async fn existing_colliding_names_survive_the_name_key_migration(pool: PgPool) {
    let before = Migrator {
        migrations: Cow::Owned(
            MIGRATOR
                .migrations
                .iter()
                .filter(|m| m.version < NAME_KEY_MIGRATION)
                .cloned()
                .collect(),
        ),
        ..Migrator::DEFAULT
    };
    before.run(&pool).await.unwrap();
    let mut ids = Vec::new();
    for (name, age_minutes) in [("Alice", 30), ("alice", 20), ("ALICE", 10), ("bob", 5)] {
        let id = Uuid::new_v4();
        sqlx::query(
            "INSERT INTO users (id, name, token_hash, created_at)
             VALUES ($1, $2, $3, now() - make_interval(mins => $4))",
        )
        .bind(id)
        .bind(name)
        .bind(auth::hash_token(&format!("token-of-{name}")))
        .bind(age_minutes)
        .execute(&pool)
        .await
        .unwrap();
        ids.push(id);
    }

    MIGRATOR.run(&pool).await.unwrap();

    let keys: Vec<(String, String)> =
        sqlx::query_as("SELECT name, name_key FROM users ORDER BY created_at")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(
        keys[0],
        ("Alice".into(), "alice".into()),
        "the oldest keeps the key"
    );
    assert_eq!(keys[1], ("alice".into(), format!("alice#{}", ids[1])));
    assert_eq!(keys[2], ("ALICE".into(), format!("alice#{}", ids[2])));
    assert_eq!(keys[3], ("bob".into(), "bob".into()));
    for name in ["Alice", "alice", "ALICE", "bob"] {
        let caller = auth::find_by_token(&pool, &format!("token-of-{name}"))
            .await
            .unwrap()
            .expect("the token still works");
        assert_eq!(caller.name, name);
    }
    for taken in ["aLiCe", "ＡＬＩＣＥ", "BOB"] {
        let err = auth::create_user(&pool, taken, 5, false).await.unwrap_err();
        assert!(
            matches!(err, storefleet_shared::Error::Conflict(_)),
            "{taken}: {err}"
        );
    }
    // the key the functions write equals the migration's for these names
    assert_eq!(auth::name_key("Alice"), "alice");
    auth::create_user(&pool, "carol", 5, false).await.unwrap();
}

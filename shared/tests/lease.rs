//! The per-store operation lease on a real PostgreSQL: one holder at a
//! time, only the holder renews or releases, and a lease whose holder died
//! (stopped renewing) is taken over once its term has run out.

#![allow(
    clippy::unwrap_used,
    reason = "test code: clippy.toml's allow-unwrap-in-tests misses the helpers of tests/ (rust-clippy#11119)"
)]

use sqlx::PgPool;
use storefleet_shared::db::lease;
use storefleet_shared::testing;

async fn store(pool: &PgPool) -> String {
    let (owner, _) = testing::user(pool, "lease", 5, false).await;
    let id = storefleet_shared::domain::StoreId::random();
    sqlx::query(
        "INSERT INTO stores (id, owner_id, name, type, namespace, url)
         VALUES ($1, $2, 'Shop', 'woocommerce', 'store-' || $1, 'http://x')",
    )
    .bind(&id)
    .bind(owner.id)
    .execute(pool)
    .await
    .unwrap();
    id.to_string()
}

#[sqlx::test(migrations = "../migrations")]
async fn one_holder_at_a_time_and_only_the_holder_lets_go(pool: PgPool) {
    let id = store(&pool).await;
    let first = lease::acquire(&pool, &id).await.unwrap().expect("free");
    assert_eq!(lease::acquire(&pool, &id).await.unwrap(), None, "held");
    assert!(lease::renew(&pool, &id, first).await.unwrap());

    let stranger = lease::Held {
        holder: uuid::Uuid::new_v4(),
    };
    assert!(!lease::renew(&pool, &id, stranger).await.unwrap());
    lease::release(&pool, &id, stranger).await.unwrap();
    assert_eq!(
        lease::acquire(&pool, &id).await.unwrap(),
        None,
        "a stranger's release changes nothing"
    );

    lease::release(&pool, &id, first).await.unwrap();
    assert!(
        lease::acquire(&pool, &id).await.unwrap().is_some(),
        "free again"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn a_lease_whose_holder_stopped_renewing_lapses_and_is_taken_over(pool: PgPool) {
    let id = store(&pool).await;
    let crashed = lease::acquire(&pool, &id).await.unwrap().unwrap();
    // its holder was killed: no renewal, and the term runs out
    sqlx::query(
        "UPDATE stores SET operation_lease_until = now() - interval '1 second' WHERE id = $1",
    )
    .bind(&id)
    .execute(&pool)
    .await
    .unwrap();
    let next = lease::acquire(&pool, &id).await.unwrap().expect("lapsed");
    assert_ne!(next, crashed);
    // the old holder, should it come back, can neither renew nor release it
    assert!(!lease::renew(&pool, &id, crashed).await.unwrap());
    lease::release(&pool, &id, crashed).await.unwrap();
    assert_eq!(lease::acquire(&pool, &id).await.unwrap(), None);
}

//! The HTTP API, through the local broker's gateway, as the dashboard calls
//! it with the bootstrap admin's token; and what PostgreSQL says of a store.

use std::time::Duration;

use anyhow::bail;
use serde_json::{Value, json};
use sqlx::Connection;

use super::Platform;
use crate::wait::until;

impl Platform {
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<(reqwest::StatusCode, Value)> {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.broker_url))
            .bearer_auth(&self.admin_token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let answer = request.send().await?;
        let status = answer.status();
        let text = answer.text().await?;
        let json = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Ok((status, json))
    }

    /// `POST /api/stores` for a WooCommerce store; the store (202).
    pub async fn create_store(&self, name: &str) -> anyhow::Result<Value> {
        let (status, body) = self
            .call(
                reqwest::Method::POST,
                "/api/stores",
                Some(json!({"type": "woocommerce", "name": name})),
            )
            .await?;
        if status != reqwest::StatusCode::ACCEPTED {
            bail!("POST /api/stores answered {status}: {body}");
        }
        Ok(body)
    }

    /// `GET /api/stores/{id}`.
    pub async fn store(&self, id: &str) -> anyhow::Result<Value> {
        self.get_ok(&format!("/api/stores/{id}")).await
    }

    /// GET `path` through the gateway; an error unless it answered 2xx.
    async fn get_ok(&self, path: &str) -> anyhow::Result<Value> {
        let (status, body) = self.call(reqwest::Method::GET, path, None).await?;
        if !status.is_success() {
            bail!("GET {path} answered {status}: {body}");
        }
        Ok(body)
    }

    /// `GET /api/stores/{id}/credentials`: list-stores reads the store's
    /// Secret with its own token (the per-store reader binding).
    pub async fn credentials(&self, id: &str) -> anyhow::Result<Value> {
        self.get_ok(&format!("/api/stores/{id}/credentials")).await
    }

    /// `GET /api/stores/{id}/events`: the activity log's event types... as
    /// the API returns them (objects), oldest first.
    pub async fn events(&self, id: &str) -> anyhow::Result<Vec<Value>> {
        let body = self.get_ok(&format!("/api/stores/{id}/events")).await?;
        Ok(body["events"].as_array().cloned().unwrap_or_default())
    }

    /// The store's status in PostgreSQL (the API hides deleted stores).
    pub async fn db_status(&self, id: &str) -> anyhow::Result<Option<String>> {
        let mut conn = sqlx::PgConnection::connect(&self.database_url).await?;
        Ok(
            sqlx::query_scalar("SELECT status FROM stores WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut conn)
                .await?,
        )
    }

    /// The kinds of the store's activity log in PostgreSQL, oldest first
    /// (readable after deletion, when the API answers 404).
    pub async fn db_event_kinds(&self, id: &str) -> anyhow::Result<Vec<String>> {
        let mut conn = sqlx::PgConnection::connect(&self.database_url).await?;
        Ok(
            sqlx::query_scalar("SELECT kind FROM store_events WHERE store_id = $1 ORDER BY id")
                .bind(id)
                .fetch_all(&mut conn)
                .await?,
        )
    }

    /// `DELETE /api/stores/{id}` (202).
    pub async fn delete_store(&self, id: &str) -> anyhow::Result<Value> {
        let (status, body) = self
            .call(reqwest::Method::DELETE, &format!("/api/stores/{id}"), None)
            .await?;
        if status != reqwest::StatusCode::ACCEPTED {
            bail!("DELETE /api/stores/{id} answered {status}: {body}");
        }
        Ok(body)
    }

    /// Wait until the store has `status`; fail at once if it reaches a
    /// status from which `status` can no longer be reached.
    pub async fn wait_for_status(
        &self,
        id: &str,
        status: &str,
        limit: Duration,
    ) -> anyhow::Result<Value> {
        let mut last = Value::Null;
        let result = until(
            &format!("store {id} to be {status}"),
            limit,
            Duration::from_millis(100),
            async || {
                // A deleted store is gone from the API (404); its row stays.
                if status == "deleted"
                    && self.db_status(id).await.ok()?.as_deref() == Some("deleted")
                {
                    let (code, _) = self
                        .call(reqwest::Method::GET, &format!("/api/stores/{id}"), None)
                        .await
                        .ok()?;
                    return Some(if code == reqwest::StatusCode::NOT_FOUND {
                        Ok(json!({"id": id, "status": "deleted"}))
                    } else {
                        Err(anyhow::anyhow!(
                            "store {id} is deleted but GET /api/stores/{id} answers {code}"
                        ))
                    });
                }
                let store = self.store(id).await.ok()?;
                last = store.clone();
                let now = store["status"].as_str().unwrap_or_default();
                if now == status {
                    Some(Ok(store))
                } else if unreachable_from(now).contains(&status) {
                    Some(Err(anyhow::anyhow!(
                        "store {id} is {now}, expected {status}: {store}"
                    )))
                } else {
                    None
                }
            },
        )
        .await;
        match result {
            Ok(found) => found,
            Err(err) => Err(err.context(format!("last seen: {last}"))),
        }
    }
}

/// The statuses a store in `status` can never reach any more (the guarded
/// transitions of docs/events.md: provisioning → ready | failed → deleting
/// → deleted; a ready store can still fail, e.g. when its namespace vanishes).
fn unreachable_from(status: &str) -> &'static [&'static str] {
    match status {
        "failed" => &["provisioning", "ready"],
        "deleting" => &["provisioning", "ready", "failed"],
        "deleted" => &["provisioning", "ready", "failed", "deleting"],
        "ready" => &["provisioning"],
        _ => &[],
    }
}

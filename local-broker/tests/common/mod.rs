//! Test subscribers: small axum servers on loopback that record what the
//! broker delivers and answer with a programmed sequence of statuses. They
//! are receivers in a real HTTP exchange, not mocks of the product.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use local_broker::manifest::Manifests;
use local_broker::server::{self, Options, Running};
use reqwest::Url;

/// One request as the subscriber saw it.
#[derive(Debug, Clone)]
pub struct Received {
    pub at: Instant,
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
    }
}

/// What the subscriber answers to its n-th request (the last entry repeats).
#[derive(Clone)]
pub enum Answer {
    Status(u16),
    StatusBody(u16, &'static str),
    /// 200 with a binary-mode reply event of this type.
    Reply(&'static str),
    /// Sleep, then 200 (for timeouts).
    Slow(Duration),
}

#[derive(Clone)]
pub struct Subscriber {
    pub url: Url,
    received: Arc<Mutex<Vec<Received>>>,
}

struct SubState {
    received: Arc<Mutex<Vec<Received>>>,
    answers: Vec<Answer>,
}

impl Subscriber {
    pub async fn start(answers: Vec<Answer>) -> Subscriber {
        let received = Arc::new(Mutex::new(Vec::new()));
        let state = Arc::new(SubState {
            received: received.clone(),
            answers,
        });
        // `/{*path}` does not match the root, where a sink without a path delivers.
        let app = Router::new()
            .route("/", post(handle))
            .route("/{*path}", post(handle))
            .with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Subscriber {
            url: Url::parse(&format!("http://{addr}/")).unwrap(),
            received,
        }
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    pub fn count(&self) -> usize {
        self.received.lock().unwrap().len()
    }

    /// Waits until at least `n` requests arrived (or panics after `within`).
    pub async fn wait_for(&self, n: usize, within: Duration) -> Vec<Received> {
        let deadline = Instant::now() + within;
        loop {
            let r = self.received();
            if r.len() >= n {
                return r;
            }
            assert!(
                Instant::now() < deadline,
                "expected {n} requests within {within:?}, got {}: {:?}",
                r.len(),
                r.iter().map(|r| r.header("ce-type")).collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

async fn handle(
    State(state): State<Arc<SubState>>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let n = {
        let mut r = state.received.lock().unwrap();
        r.push(Received {
            at: Instant::now(),
            path: uri.path().to_string(),
            headers,
            body,
        });
        r.len()
    };
    let answer = state
        .answers
        .get(n - 1)
        .or(state.answers.last())
        .cloned()
        .unwrap_or(Answer::Status(202));
    match answer {
        Answer::Status(s) => StatusCode::from_u16(s).unwrap().into_response(),
        Answer::StatusBody(s, b) => (StatusCode::from_u16(s).unwrap(), b).into_response(),
        Answer::Reply(ty) => (
            StatusCode::OK,
            [
                ("ce-specversion", "1.0"),
                ("ce-id", "reply-1"),
                ("ce-source", "/test/replier"),
                ("ce-type", ty),
                ("content-type", "application/json"),
            ],
            r#"{"replied":true}"#,
        )
            .into_response(),
        Answer::Slow(d) => {
            tokio::time::sleep(d).await;
            StatusCode::OK.into_response()
        }
    }
}

/// Writes `yaml` as the only manifest file and loads it.
pub fn manifests(yaml: &str) -> Manifests {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("test.yaml"), yaml).unwrap();
    Manifests::load_dir(dir.path()).unwrap()
}

/// Starts the broker on a free loopback port with these function URLs,
/// without sources that need a cluster.
pub async fn broker(m: Manifests, functions: &[(&str, &Url)]) -> Running {
    server::start(Options {
        manifests: m,
        listen: "127.0.0.1:0".parse().unwrap(),
        ingress_listen: "127.0.0.1:0".parse().unwrap(),
        ingress_url: None,
        functions: functions
            .iter()
            .map(|(n, u)| (n.to_string(), (*u).clone()))
            .collect::<BTreeMap<_, _>>(),
        run: BTreeMap::new(),
        dashboard_dir: "/nonexistent".into(),
        mail_url: None,
        apiserver_source: false,
        ping_source: true,
        limits: Default::default(),
    })
    .await
    .unwrap()
}

/// Sends a binary-mode event to the broker ingress; returns the status.
pub async fn send(broker: &Running, path: &str, ty: &str, extra: &[(&str, &str)]) -> u16 {
    let mut req = reqwest::Client::new()
        .post(broker.ingress_url().join(path).unwrap())
        .header("ce-specversion", "1.0")
        .header("ce-id", uuid::Uuid::new_v4().to_string())
        .header("ce-source", "/test")
        .header("ce-type", ty)
        .header("content-type", "application/json");
    for (k, v) in extra {
        req = req.header(*k, *v);
    }
    req.body(r#"{"store_id":"abcd1234"}"#)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// The Broker + Services part every routing test shares.
pub const BASE: &str = r#"
apiVersion: eventing.knative.dev/v1
kind: Broker
metadata: {name: default, namespace: storefleet}
---
apiVersion: serving.knative.dev/v1
kind: Service
metadata: {name: fn-a, namespace: storefleet}
spec: {}
---
apiVersion: serving.knative.dev/v1
kind: Service
metadata: {name: fn-b, namespace: storefleet}
spec: {}
---
apiVersion: serving.knative.dev/v1
kind: Service
metadata: {name: dls, namespace: storefleet}
spec: {}
"#;

/// A Trigger on `broker default` with a filter block and a delivery block.
pub fn trigger(name: &str, to: &str, filter: &str, delivery: &str) -> String {
    format!(
        r#"
---
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {{name: {name}, namespace: storefleet}}
spec:
  broker: default
{filter}
  subscriber:
    ref: {{apiVersion: serving.knative.dev/v1, kind: Service, name: {to}}}
    uri: /events
{delivery}
"#
    )
}

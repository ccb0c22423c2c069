//! A scripted kube API for unit tests: each expected request is checked
//! (method, path and query, body) and answered in order.

use http::{Method, Request, Response, StatusCode};
use kube::Client;
use kube::client::Body;
use serde_json::Value;
use tower_test::mock;

/// One expected request and the answer to give.
pub struct Exchange {
    pub method: Method,
    /// Path and query, e.g. `/api/v1/namespaces/store-abcd1234?fieldManager=storefleet&force=true`.
    pub uri: String,
    /// Checks on the request body (parsed as JSON; `Value::Null` when empty).
    pub check_body: Box<dyn FnOnce(&Value) + Send>,
    pub status: StatusCode,
    pub answer: Value,
}

impl Exchange {
    pub fn new(method: Method, uri: impl Into<String>, status: u16, answer: Value) -> Self {
        Self {
            method,
            uri: uri.into(),
            check_body: Box::new(|_| {}),
            status: StatusCode::from_u16(status).unwrap(),
            answer,
        }
    }

    pub fn body(mut self, check: impl FnOnce(&Value) + Send + 'static) -> Self {
        self.check_body = Box::new(check);
        self
    }
}

/// A `Status` answer as the API server sends for errors.
pub fn status(code: u16, reason: &str, message: &str) -> Value {
    serde_json::json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": message, "reason": reason, "code": code,
    })
}

/// A client whose API server is `script`; the returned task panics on any
/// unexpected request and must be awaited to check that all were made.
pub fn scripted(script: Vec<Exchange>) -> (Client, tokio::task::JoinHandle<()>) {
    let (service, mut handle) = mock::pair::<Request<Body>, Response<Body>>();
    let task = tokio::spawn(async move {
        for exchange in script {
            let (request, respond) = handle
                .next_request()
                .await
                .unwrap_or_else(|| panic!("expected {} {}", exchange.method, exchange.uri));
            assert_eq!(request.method(), exchange.method, "{}", request.uri());
            let uri = request.uri().path_and_query().unwrap().to_string();
            assert_eq!(uri, exchange.uri);
            let bytes = request.into_body().collect_bytes().await.unwrap();
            let body = if bytes.is_empty() {
                Value::Null
            } else {
                serde_json::from_slice(&bytes).unwrap()
            };
            (exchange.check_body)(&body);
            respond.send_response(
                Response::builder()
                    .status(exchange.status)
                    .body(Body::from(serde_json::to_vec(&exchange.answer).unwrap()))
                    .unwrap(),
            );
        }
    });
    (Client::new(service, "default"), task)
}

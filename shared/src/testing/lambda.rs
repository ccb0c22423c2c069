//! A Lambda Runtime API inside the test, to run a function binary as AWS
//! Lambda runs it. The binary gets `AWS_LAMBDA_RUNTIME_API` (so
//! [`crate::server::serve`] hands its router to `lambda_http`), polls
//! `GET /2018-06-01/runtime/invocation/next` for an event and posts its answer
//! to `POST /2018-06-01/runtime/invocation/{id}/response`, or to `…/{id}/error`
//! when it cannot handle the event — the interface documented at
//! <https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html>.
//!
//! The events are API Gateway HTTP API events (payload format 2.0,
//! [`http_api_event`]); [`HttpAnswer`] reads the function's answer the way
//! API Gateway turns it into the client's HTTP response.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};

use super::KillOnDrop;

/// The ARN the runtime API names in `Lambda-Runtime-Invoked-Function-Arn`.
pub const FUNCTION_ARN: &str = "arn:aws:lambda:eu-central-1:123456789012:function:storefleet";

/// Time an invocation gets (its `Lambda-Runtime-Deadline-Ms`); the test waits
/// as long for the answer.
const INVOCATION_TIMEOUT: Duration = Duration::from_secs(30);

/// What the function posted for one invocation.
#[derive(Debug)]
pub enum Outcome {
    /// `POST …/invocation/{id}/response`: the handler's result.
    Response(Value),
    /// `POST …/invocation/{id}/error`: its `Lambda-Runtime-Function-Error-Type`
    /// and the error document (`errorType`, `errorMessage`).
    Error {
        error_type: Option<String>,
        body: Value,
    },
}

struct Invocation {
    event: Value,
    done: oneshot::Sender<Outcome>,
}

/// The runtime API's state: events not yet fetched, invocations fetched and
/// not yet answered, and every request that broke the protocol.
struct RuntimeApi {
    queue: tokio::sync::Mutex<mpsc::UnboundedReceiver<Invocation>>,
    in_flight: Mutex<HashMap<String, oneshot::Sender<Outcome>>>,
    violations: Mutex<Vec<String>>,
}

impl RuntimeApi {
    fn violation(&self, what: String) -> Response {
        self.violations
            .lock()
            .expect("runtime API state")
            .push(what.clone());
        (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({ "errorType": "InvalidRequestID", "errorMessage": what })),
        )
            .into_response()
    }

    fn complete(&self, id: &str, outcome: Outcome) -> Response {
        let waiting = self.in_flight.lock().expect("runtime API state").remove(id);
        match waiting {
            Some(done) => {
                // the test may have given up waiting; the answer is then moot
                let _ = done.send(outcome);
                (StatusCode::ACCEPTED, axum::Json(json!({ "status": "OK" }))).into_response()
            }
            None => self.violation(format!(
                "an answer for request id {id}, which is not an invocation in flight (unknown, or answered already)"
            )),
        }
    }
}

/// `GET /2018-06-01/runtime/invocation/next`: waits for an event and hands it
/// out with the documented headers.
async fn next(State(api): State<Arc<RuntimeApi>>) -> Response {
    // mpsc::Receiver::recv is cancel safe: a poll cut off (the process
    // exited) leaves the event queued
    let Some(invocation) = api.queue.lock().await.recv().await else {
        return StatusCode::GONE.into_response();
    };
    let id = uuid::Uuid::new_v4().to_string();
    let deadline = SystemTime::now() + INVOCATION_TIMEOUT;
    let deadline_ms = deadline
        .duration_since(UNIX_EPOCH)
        .map(|since| since.as_millis())
        .unwrap_or_default();
    api.in_flight
        .lock()
        .expect("runtime API state")
        .insert(id.clone(), invocation.done);
    let mut headers = HeaderMap::new();
    for (name, value) in [
        ("lambda-runtime-aws-request-id", id.clone()),
        ("lambda-runtime-deadline-ms", deadline_ms.to_string()),
        (
            "lambda-runtime-invoked-function-arn",
            FUNCTION_ARN.to_owned(),
        ),
        ("lambda-runtime-trace-id", trace_id()),
    ] {
        headers.insert(
            HeaderName::from_static(name),
            HeaderValue::from_str(&value).expect("header values are ASCII"),
        );
    }
    (StatusCode::OK, headers, axum::Json(invocation.event)).into_response()
}

/// An X-Ray trace header as Lambda sends it (`Root=1-<8 hex>-<24 hex>`).
fn trace_id() -> String {
    let hex = uuid::Uuid::new_v4().simple().to_string();
    format!("Root=1-{}-{};Sampled=0", &hex[..8], &hex[8..])
}

fn json_or_text(body: &Bytes) -> Value {
    serde_json::from_slice(body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into_owned()))
}

async fn response(
    State(api): State<Arc<RuntimeApi>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    api.complete(&id, Outcome::Response(json_or_text(&body)))
}

async fn error(
    State(api): State<Arc<RuntimeApi>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let error_type = headers
        .get("lambda-runtime-function-error-type")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    api.complete(
        &id,
        Outcome::Error {
            error_type,
            body: json_or_text(&body),
        },
    )
}

async fn init_error(State(api): State<Arc<RuntimeApi>>, body: Bytes) -> Response {
    api.violation(format!(
        "init error: {}",
        String::from_utf8_lossy(&body).into_owned()
    ))
}

/// A function binary started as Lambda starts it, with the runtime API it polls.
pub struct LambdaFunction {
    name: String,
    api: Arc<RuntimeApi>,
    events: mpsc::UnboundedSender<Invocation>,
    child: KillOnDrop,
    output: Arc<Mutex<String>>,
}

impl LambdaFunction {
    /// Start `binary` with a runtime API on a free loopback port and the
    /// variables Lambda sets for every function (`AWS_LAMBDA_RUNTIME_API`,
    /// `AWS_LAMBDA_FUNCTION_NAME`, …), then `env` (e.g. `DATABASE_URL`).
    pub async fn start(binary: &str, env: &[(&str, String)]) -> LambdaFunction {
        let (events, queue) = mpsc::unbounded_channel();
        let api = Arc::new(RuntimeApi {
            queue: tokio::sync::Mutex::new(queue),
            in_flight: Mutex::default(),
            violations: Mutex::default(),
        });
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(response),
            )
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(api.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port for the runtime API");
        let address = listener.local_addr().expect("runtime API address");
        tokio::spawn(async move {
            axum::serve(listener, app)
                .await
                .expect("runtime API serves")
        });

        let name = std::path::Path::new(binary)
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_else(|| binary.to_owned());
        let mut command = std::process::Command::new(binary);
        command
            .env("AWS_LAMBDA_RUNTIME_API", address.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", &name)
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}"))
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "2026/01/01/[$LATEST]test")
            .env("RUST_LOG", "warn")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        for (key, value) in env {
            command.env(key, value);
        }
        let mut child = command.spawn().expect("start the function binary");
        let output: Arc<Mutex<String>> = Arc::default();
        for stream in [
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
        ]
        .into_iter()
        .flatten()
        {
            let output = output.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(|line| line.ok()) {
                    let mut output = output.lock().expect("function output");
                    output.push_str(&line);
                    output.push('\n');
                }
            });
        }
        LambdaFunction {
            name,
            api,
            events,
            child: KillOnDrop(child),
            output,
        }
    }

    /// The process's id (to check what it listens on).
    pub fn pid(&self) -> u32 {
        self.child.0.id()
    }

    /// What the process printed so far.
    pub fn output(&self) -> String {
        self.output.lock().expect("function output").clone()
    }

    /// Requests to the runtime API that broke its protocol (an answer to no
    /// invocation in flight, an init error): none in a correct run.
    pub fn violations(&self) -> Vec<String> {
        self.api
            .violations
            .lock()
            .expect("runtime API state")
            .clone()
    }

    /// Hand `event` to the function's next poll and wait for what it posts.
    pub async fn invoke(&mut self, event: Value) -> Outcome {
        let (done, mut answer) = oneshot::channel();
        self.events
            .send(Invocation { event, done })
            .expect("the runtime API is running");
        let deadline = Instant::now() + INVOCATION_TIMEOUT;
        loop {
            match tokio::time::timeout(Duration::from_millis(50), &mut answer).await {
                Ok(Ok(outcome)) => return outcome,
                Ok(Err(_)) => panic!("the runtime API dropped the invocation"),
                Err(_) => {}
            }
            if let Ok(Some(status)) = self.child.0.try_wait() {
                panic!(
                    "{} exited ({status}) before answering; it printed:\n{}",
                    self.name,
                    self.output()
                );
            }
            assert!(
                Instant::now() < deadline,
                "{} did not answer within {INVOCATION_TIMEOUT:?}; it printed:\n{}\nviolations: {:?}",
                self.name,
                self.output(),
                self.violations()
            );
        }
    }

    /// Invoke with an API Gateway HTTP API event and read the answer as the
    /// client would get it; panics if the function posted an error instead.
    pub async fn http(&mut self, event: Value) -> HttpAnswer {
        match self.invoke(event).await {
            Outcome::Response(answer) => HttpAnswer::from_lambda(&answer),
            Outcome::Error { error_type, body } => panic!(
                "{} posted an invocation error ({error_type:?}) for an HTTP event: {body}",
                self.name
            ),
        }
    }
}

/// An API Gateway HTTP API event (payload format 2.0, the `$default` stage)
/// for `method` on `path_and_query`, with `headers` (names lower case, as API
/// Gateway sends them) and an optional text body.
pub fn http_api_event(
    method: &str,
    path_and_query: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Value {
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    let mut header_map = serde_json::Map::new();
    header_map.insert("host".into(), "api.storefleet.test".into());
    header_map.insert("user-agent".into(), "storefleet-test".into());
    for (name, value) in headers {
        header_map.insert(
            name.to_ascii_lowercase(),
            Value::String((*value).to_owned()),
        );
    }
    if let Some(body) = body {
        header_map.insert("content-length".into(), body.len().to_string().into());
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|since| since.as_millis() as u64)
        .unwrap_or_default();
    json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": header_map,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "storefleet",
            "domainName": "api.storefleet.test",
            "domainPrefix": "api",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "192.0.2.10",
                "userAgent": "storefleet-test"
            },
            "requestId": uuid::Uuid::new_v4().to_string(),
            "routeKey": "$default",
            "stage": "$default",
            "time": "01/Jan/2026:00:00:00 +0000",
            "timeEpoch": now
        },
        "body": body,
        "isBase64Encoded": false
    })
}

/// The HTTP response API Gateway makes of a function's answer
/// (`statusCode`, `headers`, `cookies`, `body`, `isBase64Encoded`).
#[derive(Debug)]
pub struct HttpAnswer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    /// The body as JSON (`Null` when empty, a string when not JSON).
    pub body: Value,
}

impl HttpAnswer {
    /// Assert the answer is the API's problem `expected`/`slug` (RFC 9457).
    pub fn assert_problem(&self, expected: u16, slug: &str) {
        super::assert_problem(self.status, &self.headers, &self.body, expected, slug);
    }

    pub fn from_lambda(answer: &Value) -> HttpAnswer {
        let status = answer["statusCode"]
            .as_u64()
            .and_then(|code| u16::try_from(code).ok())
            .and_then(|code| StatusCode::from_u16(code).ok())
            .unwrap_or_else(|| panic!("no valid statusCode in the answer: {answer}"));
        let mut headers = HeaderMap::new();
        let single = answer["headers"].as_object().into_iter().flatten();
        let cookies = answer["cookies"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|cookie| ("set-cookie".to_owned(), cookie.clone()));
        for (name, value) in single.map(|(n, v)| (n.clone(), v.clone())).chain(cookies) {
            let value = value
                .as_str()
                .unwrap_or_else(|| panic!("header {name} is not a string: {answer}"));
            headers.append(
                HeaderName::from_bytes(name.as_bytes()).expect("a header name"),
                HeaderValue::from_str(value).expect("a header value"),
            );
        }
        let text = answer["body"].as_str().unwrap_or_default();
        let bytes = if answer["isBase64Encoded"].as_bool().unwrap_or(false) {
            base64::engine::general_purpose::STANDARD
                .decode(text)
                .expect("isBase64Encoded body is base64")
        } else {
            text.as_bytes().to_vec()
        };
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        HttpAnswer {
            status,
            headers,
            body,
        }
    }
}

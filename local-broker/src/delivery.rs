//! Delivering one event to one subscriber the way Knative's dispatcher does:
//! binary mode, the Trigger's retry/backoff/timeout, the answer classified by
//! the data-plane contract, then the dead-letter sink with the
//! `knativeerror*` extensions.

use std::time::Duration;

use base64::Engine as _;
use cloudevents::Event;
use cloudevents::binding::reqwest::RequestBuilderExt;
use reqwest::{StatusCode, Url};

use crate::manifest::{BackoffPolicy, Delivery};

/// Knative truncates the failed response body it copies into
/// `knativeerrordata` to this many bytes.
pub const ERROR_DATA_MAX: usize = 1024;

/// The wait before retry number `retry` (1-based), as Knative documents it:
/// linear `backoffDelay * retry`, exponential `backoffDelay * 2^retry`.
/// (The `backoff` crate has no linear policy and adds jitter; matching
/// Knative's schedule exactly is the point here.)
pub fn backoff(policy: BackoffPolicy, delay: Duration, retry: u32) -> Duration {
    match policy {
        BackoffPolicy::Linear => delay.saturating_mul(retry),
        BackoffPolicy::Exponential => 2u32
            .checked_pow(retry)
            .map_or(Duration::MAX, |factor| delay.saturating_mul(factor)),
    }
}

/// What the data-plane contract says about an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Delivered,
    Retry,
    /// Do not retry: straight to the dead-letter sink.
    Reject,
}

pub fn classify(status: StatusCode) -> Verdict {
    match status.as_u16() {
        200..=299 => Verdict::Delivered,
        404 | 409 | 429 => Verdict::Retry,
        500..=599 => Verdict::Retry,
        // 400, the other 4xx, and anything else (1xx/3xx are not acceptance).
        _ => Verdict::Reject,
    }
}

/// The result of one attempt.
#[derive(Debug)]
pub struct Attempt {
    /// The HTTP status, or 500 when the request failed (connection refused,
    /// timeout), as Knative records it.
    pub code: u16,
    pub verdict: Verdict,
    /// The response body (failures) or the dispatch error text.
    pub body: Vec<u8>,
    /// A reply event from a 2xx answer.
    pub reply: Option<Event>,
}

/// One attempt: binary mode, with the per-attempt timeout.
pub async fn send_once(
    client: &reqwest::Client,
    url: &Url,
    event: Event,
    timeout: Option<Duration>,
    token: Option<&str>,
) -> Attempt {
    let mut request = client.post(url.clone());
    if let Some(t) = timeout {
        request = request.timeout(t);
    }
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let request = match request.event(event) {
        Ok(r) => r,
        Err(e) => {
            return Attempt {
                code: 500,
                verdict: Verdict::Reject,
                body: format!("dispatch error: cannot encode event: {e}").into_bytes(),
                reply: None,
            };
        }
    };
    let response = match request.send().await {
        Ok(r) => r,
        Err(e) => {
            return Attempt {
                code: 500,
                verdict: Verdict::Retry,
                body: format!("dispatch error: {e}").into_bytes(),
                reply: None,
            };
        }
    };
    let status = response.status();
    let headers = response.headers().clone();
    let body = match response.bytes().await {
        Ok(b) => b.to_vec(),
        Err(e) => {
            return Attempt {
                code: 500,
                verdict: Verdict::Retry,
                body: format!("dispatch error: reading the response: {e}").into_bytes(),
                reply: None,
            };
        }
    };
    let verdict = classify(status);
    let reply = if verdict == Verdict::Delivered && carries_event(&headers) {
        match cloudevents::binding::http::to_event(&headers, body.clone()) {
            Ok(e) => Some(e),
            Err(e) => {
                tracing::warn!(%url, error = %e, "subscriber answered 2xx with a malformed reply event; the reply is dropped");
                None
            }
        }
    } else {
        None
    };
    Attempt {
        code: status.as_u16(),
        verdict,
        body,
        reply,
    }
}

/// Binary mode (`ce-specversion`) or structured mode (`application/cloudevents+json`).
fn carries_event(headers: &reqwest::header::HeaderMap) -> bool {
    headers.contains_key("ce-specversion")
        || headers
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/cloudevents+json"))
}

/// How a delivery ended.
#[derive(Debug)]
pub enum Outcome {
    Delivered { attempts: u32, reply: Option<Event> },
    Failed { attempts: u32, last: Attempt },
}

/// Sends with the delivery policy's retries and backoff.
pub async fn deliver(
    client: &reqwest::Client,
    url: &Url,
    event: &Event,
    delivery: &Delivery,
    token: Option<&str>,
) -> Outcome {
    let mut retry = 0;
    loop {
        if retry > 0 {
            tokio::time::sleep(backoff(
                delivery.backoff_policy,
                delivery.backoff_delay,
                retry,
            ))
            .await;
        }
        let attempt = send_once(client, url, event.clone(), delivery.timeout, token).await;
        let attempts = retry + 1;
        match attempt.verdict {
            Verdict::Delivered => {
                return Outcome::Delivered {
                    attempts,
                    reply: attempt.reply,
                };
            }
            Verdict::Retry if retry < delivery.retry => {
                tracing::debug!(%url, code = attempt.code, retry, "delivery failed; retrying");
                retry += 1;
            }
            _ => {
                return Outcome::Failed {
                    attempts,
                    last: attempt,
                };
            }
        }
    }
}

/// The event as the dead-letter sink receives it: the original plus
/// `knativeerrordest` (where it failed), `knativeerrorcode` (last status) and
/// `knativeerrordata` (the last response body, base64, at most 1 KiB).
pub fn dead_letter_event(event: &Event, destination: &Url, last: &Attempt) -> Event {
    let mut e = event.clone();
    e.set_extension("knativeerrordest", destination.to_string());
    e.set_extension("knativeerrorcode", last.code.to_string());
    let data = &last.body[..last.body.len().min(ERROR_DATA_MAX)];
    if !data.is_empty() {
        e.set_extension(
            "knativeerrordata",
            base64::engine::general_purpose::STANDARD.encode(data),
        );
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_matches_knatives_documented_schedule() {
        let d = Duration::from_millis(500);
        let linear: Vec<_> = (1..=3)
            .map(|n| backoff(BackoffPolicy::Linear, d, n))
            .collect();
        assert_eq!(linear, [d, d * 2, d * 3]);
        let exp: Vec<_> = (1..=3)
            .map(|n| backoff(BackoffPolicy::Exponential, d, n))
            .collect();
        assert_eq!(exp, [d * 2, d * 4, d * 8]);
        // No overflow panic for absurd settings.
        assert_eq!(backoff(BackoffPolicy::Exponential, d, 200), Duration::MAX);
    }

    #[test]
    fn classify_follows_the_data_plane_contract() {
        let v = |s: u16| classify(StatusCode::from_u16(s).unwrap());
        for s in [200, 201, 202, 204] {
            assert_eq!(v(s), Verdict::Delivered, "{s}");
        }
        for s in [404, 409, 429, 500, 502, 503, 504] {
            assert_eq!(v(s), Verdict::Retry, "{s}");
        }
        for s in [400, 401, 403, 405, 410, 413, 422, 301] {
            assert_eq!(v(s), Verdict::Reject, "{s}");
        }
    }

    #[test]
    fn dead_letter_data_is_truncated_base64() {
        use cloudevents::{AttributesReader, EventBuilder, EventBuilderV10};
        let e = EventBuilderV10::new()
            .id("1")
            .source("/s")
            .ty("t")
            .build()
            .unwrap();
        let last = Attempt {
            code: 500,
            verdict: Verdict::Retry,
            body: vec![b'x'; 5000],
            reply: None,
        };
        let dest = Url::parse("http://127.0.0.1:1/events").unwrap();
        let d = dead_letter_event(&e, &dest, &last);
        let data = d.extension("knativeerrordata").unwrap().to_string();
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(data)
            .unwrap();
        assert_eq!(decoded.len(), ERROR_DATA_MAX);
        assert_eq!(
            d.extension("knativeerrordest").unwrap().to_string(),
            dest.as_str()
        );
        assert_eq!(d.extension("knativeerrorcode").unwrap().to_string(), "500");
        assert_eq!(d.id(), "1", "the original event, not a new one");
    }
}

//! Authenticated deliveries (docs/events.md, "Authenticated deliveries").
//!
//! Store ids are public (the storefront's host name), so whoever reaches
//! `/events` or `/dead-letters` could otherwise move any tenant's store. Every
//! delivery must carry `Authorization: Bearer <OIDC token>` as Knative
//! Eventing's `authentication-oidc` sends it: a JWT of the configured issuer
//! (the cluster's ServiceAccount issuer), for this function's audience (the
//! Trigger's `subscriber.audience`), from an accepted subject (the Trigger's
//! OIDC ServiceAccount). Anything else is `401` before the body is read, and
//! nothing changes. The local broker signs its deliveries the same way with a
//! key of its own ([`Signer`]) and serves the discovery document and key set
//! the functions are configured with, so dev and every test go through this.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use jsonwebtoken::jwk::{Jwk, JwkSet, KeyAlgorithm};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use crate::auth::bearer_token;
use crate::config::{DeliveryAuthConfig, JwksLocation};
use crate::error::Error;

/// A fetched key set is used this long before it is read again, and an
/// unknown `kid` (a rotated key) refreshes it at most this often, so forged
/// tokens with random `kid`s cannot make every request a JWKS fetch.
const KEYS_FRESH_FOR: Duration = Duration::from_secs(300);
const REFRESH_AT_MOST_EVERY: Duration = Duration::from_secs(10);
/// Clock skew allowed on `exp`/`nbf`.
const LEEWAY_SECONDS: u64 = 30;
/// The algorithms a ServiceAccount issuer signs with (RSA or ECDSA keys) and
/// the local broker's EdDSA; never `HS*` (a public key is not a secret).
const ACCEPTED: [Algorithm; 5] = [
    Algorithm::RS256,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::PS256,
    Algorithm::EdDSA,
];

/// The claims the functions rely on.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub exp: u64,
    pub iat: u64,
}

/// Why a delivery was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum Denial {
    /// `401` without `error=`: no Bearer credentials.
    Missing(String),
    /// `401 error="invalid_token"`.
    Invalid(String),
    /// `503`: the keys could not be read (retried by the broker).
    KeysUnavailable(String),
}

/// Verifies delivery tokens; cheap to clone.
#[derive(Clone)]
pub struct DeliveryAuth {
    inner: Arc<Inner>,
}

struct Inner {
    config: DeliveryAuthConfig,
    source: KeySource,
    cache: Mutex<Cache>,
}

enum KeySource {
    Fetch(reqwest::Client),
    Kubernetes(tokio::sync::OnceCell<kube::Client>),
    Static(JwkSet),
}

#[derive(Default)]
struct Cache {
    keys: Option<(Instant, JwkSet)>,
    last_fetch: Option<Instant>,
}

impl DeliveryAuth {
    pub fn new(config: DeliveryAuthConfig) -> crate::Result<Self> {
        let source = match config.jwks {
            JwksLocation::Kubernetes => KeySource::Kubernetes(tokio::sync::OnceCell::new()),
            JwksLocation::Discovery | JwksLocation::Url(_) => KeySource::Fetch(
                reqwest::Client::builder()
                    .timeout(Duration::from_secs(5))
                    .redirect(reqwest::redirect::Policy::none())
                    .build()
                    .map_err(|err| Error::Internal(format!("http client: {err}")))?,
            ),
        };
        Ok(Self::with_source(config, source))
    }

    /// Keys given up front (tests, and a signer in the same process).
    pub fn with_keys(config: DeliveryAuthConfig, keys: JwkSet) -> Self {
        Self::with_source(config, KeySource::Static(keys))
    }

    fn with_source(config: DeliveryAuthConfig, source: KeySource) -> Self {
        Self {
            inner: Arc::new(Inner {
                config,
                source,
                cache: Mutex::new(Cache::default()),
            }),
        }
    }

    pub fn config(&self) -> &DeliveryAuthConfig {
        &self.inner.config
    }

    /// Checks the `Authorization` of a delivery.
    pub async fn verify(&self, headers: &axum::http::HeaderMap) -> Result<Claims, Denial> {
        let token = bearer_token(headers).map_err(|err| match err {
            Error::Unauthorized(why) => Denial::Missing(why),
            other => Denial::Invalid(other.to_string()),
        })?;
        let header = jsonwebtoken::decode_header(token)
            .map_err(|err| Denial::Invalid(format!("not a JWT: {err}")))?;
        if !ACCEPTED.contains(&header.alg) {
            return Err(Denial::Invalid(format!(
                "tokens signed with {:?} are not accepted",
                header.alg
            )));
        }
        let kid = header.kid.clone().unwrap_or_default();
        let jwk = self.key(&kid).await?;
        if let Some(alg) = jwk.common.key_algorithm
            && !same_algorithm(alg, header.alg)
        {
            return Err(Denial::Invalid(format!(
                "the token's alg {:?} is not its key's",
                header.alg
            )));
        }
        let key = DecodingKey::from_jwk(&jwk)
            .map_err(|err| Denial::KeysUnavailable(format!("key {kid:?} is not usable: {err}")))?;
        let config = &self.inner.config;
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[&config.issuer]);
        validation.set_audience(&[&config.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = LEEWAY_SECONDS;
        let data = jsonwebtoken::decode::<serde_json::Value>(token, &key, &validation)
            .map_err(|err| Denial::Invalid(format!("token refused: {err}")))?;
        let claims = data.claims;
        let sub = claims["sub"].as_str().unwrap_or_default().to_owned();
        if !config.subjects.iter().any(|p| glob_matches(p, &sub)) {
            return Err(Denial::Invalid(format!(
                "subject {sub:?} may not deliver events here"
            )));
        }
        Ok(Claims {
            iss: config.issuer.clone(),
            sub,
            aud: config.audience.clone(),
            exp: claims["exp"].as_u64().unwrap_or_default(),
            iat: claims["iat"].as_u64().unwrap_or_default(),
        })
    }

    /// The key `kid` names; the key set is read again when it is stale or
    /// does not know the `kid` (at most every [`REFRESH_AT_MOST_EVERY`]).
    async fn key(&self, kid: &str) -> Result<Jwk, Denial> {
        let find = |set: &JwkSet| -> Option<Jwk> {
            if kid.is_empty() {
                // a token without kid: only a key set of exactly one key names it
                (set.keys.len() == 1).then(|| set.keys[0].clone())
            } else {
                set.find(kid).cloned()
            }
        };
        if let KeySource::Static(set) = &self.inner.source {
            return find(set).ok_or_else(|| Denial::Invalid(format!("unknown key id {kid:?}")));
        }
        let mut cache = self.inner.cache.lock().await;
        let fresh = cache
            .keys
            .as_ref()
            .is_some_and(|(at, _)| at.elapsed() < KEYS_FRESH_FOR);
        if fresh && let Some(jwk) = find(&cache.keys.as_ref().expect("fresh").1) {
            return Ok(jwk);
        }
        let may_fetch = cache
            .last_fetch
            .is_none_or(|at| at.elapsed() >= REFRESH_AT_MOST_EVERY)
            || !fresh;
        if may_fetch {
            cache.last_fetch = Some(Instant::now());
            match self.fetch().await {
                Ok(set) => cache.keys = Some((Instant::now(), set)),
                Err(why) if cache.keys.is_none() => return Err(Denial::KeysUnavailable(why)),
                Err(why) => tracing::warn!("the delivery keys were not refreshed: {why}"),
            }
        }
        cache
            .keys
            .as_ref()
            .and_then(|(_, set)| find(set))
            .ok_or_else(|| Denial::Invalid(format!("unknown key id {kid:?}")))
    }

    async fn fetch(&self) -> Result<JwkSet, String> {
        let config = &self.inner.config;
        match &self.inner.source {
            KeySource::Static(set) => Ok(set.clone()),
            KeySource::Kubernetes(client) => {
                let client = client
                    .get_or_try_init(storefleet_kube::client::client)
                    .await
                    .map_err(|err| format!("the Kubernetes API is not reachable: {err}"))?;
                let request = axum::http::Request::get("/openid/v1/jwks")
                    .body(Vec::new())
                    .map_err(|err| err.to_string())?;
                let text = client
                    .request_text(request)
                    .await
                    .map_err(|err| format!("GET /openid/v1/jwks: {err}"))?;
                serde_json::from_str(&text).map_err(|err| format!("/openid/v1/jwks: {err}"))
            }
            KeySource::Fetch(http) => {
                let url = match &config.jwks {
                    JwksLocation::Url(url) => url.clone(),
                    _ => {
                        let discovery =
                            format!("{}/.well-known/openid-configuration", config.issuer);
                        let doc: serde_json::Value = get_json(http, &discovery).await?;
                        if doc["issuer"].as_str() != Some(config.issuer.as_str()) {
                            return Err(format!(
                                "{discovery} names issuer {}, not {}",
                                doc["issuer"], config.issuer
                            ));
                        }
                        doc["jwks_uri"]
                            .as_str()
                            .ok_or_else(|| format!("{discovery} has no jwks_uri"))?
                            .to_owned()
                    }
                };
                get_json(http, &url).await
            }
        }
    }
}

async fn get_json<T: serde::de::DeserializeOwned>(
    http: &reqwest::Client,
    url: &str,
) -> Result<T, String> {
    let response = http
        .get(url)
        .send()
        .await
        .map_err(|err| format!("GET {url}: {err}"))?;
    if !response.status().is_success() {
        return Err(format!("GET {url}: {}", response.status()));
    }
    response
        .json()
        .await
        .map_err(|err| format!("GET {url}: {err}"))
}

fn same_algorithm(key: KeyAlgorithm, token: Algorithm) -> bool {
    format!("{key:?}") == format!("{token:?}")
}

/// `*` matches any run of characters (none included); everything else literally.
pub fn glob_matches(pattern: &str, text: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

/// The middleware in front of `/events` and `/dead-letters`: `None` (no
/// issuer configured) refuses every delivery; functions refuse to start
/// without one anyway ([`require_configured`]).
pub async fn require_token(
    State(auth): State<Option<DeliveryAuth>>,
    request: Request,
    next: Next,
) -> Response {
    let Some(auth) = auth else {
        return Error::Unauthorized(
            "this function cannot authenticate deliveries: STOREFLEET_EVENTS_OIDC_ISSUER is not set"
                .into(),
        )
        .into_response();
    };
    match auth.verify(request.headers()).await {
        Ok(claims) => {
            tracing::debug!(sub = %claims.sub, "delivery authenticated");
            next.run(request).await
        }
        Err(denial) => {
            let path = request.uri().path().to_owned();
            match denial {
                Denial::Missing(why) => {
                    tracing::warn!(%path, "delivery refused: {why}");
                    Error::Unauthorized(format!("deliveries need an OIDC token: {why}"))
                        .into_response()
                }
                Denial::Invalid(why) => {
                    tracing::warn!(%path, "delivery refused: {why}");
                    Error::InvalidToken(
                        "the delivery's token is not valid for this function".into(),
                    )
                    .into_response()
                }
                Denial::KeysUnavailable(why) => {
                    tracing::error!(%path, "delivery not checked: {why}");
                    Error::Unavailable(
                        "the keys that verify deliveries cannot be read right now".into(),
                    )
                    .into_response()
                }
            }
        }
    }
}

/// A function's event routes behind [`require_token`] (route_layer: an
/// unknown path stays a 404, not a 401).
pub fn protect(
    routes: axum::Router<crate::context::Context>,
    ctx: crate::context::Context,
) -> axum::Router {
    let auth = ctx.delivery_auth.clone();
    routes
        .with_state(ctx)
        .route_layer(axum::middleware::from_fn_with_state(auth, require_token))
}

/// The functions with event endpoints refuse to start without an issuer.
pub fn require_configured(config: &crate::Config) -> crate::Result<()> {
    if config.chain.delivery_auth.is_none() {
        return Err(Error::Config(
            "STOREFLEET_EVENTS_OIDC_ISSUER is not set: /events and /dead-letters accept only deliveries with an OIDC token of that issuer (the cluster's ServiceAccount issuer, or the local broker's URL; docs/events.md)".into(),
        ));
    }
    Ok(())
}

/// Signs delivery tokens like a ServiceAccount issuer (the local broker, and
/// tests): a fresh Ed25519 key per process, served as a JWKS.
pub struct Signer {
    issuer: String,
    key: EncodingKey,
    kid: String,
    jwks: JwkSet,
}

/// How long a token the [`Signer`] issues is valid (Knative's are about an hour;
/// a delivery with its retries takes minutes).
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(600);

impl Signer {
    pub fn generate(issuer: &str) -> Self {
        // PKCS#8 v1 of an Ed25519 seed (RFC 8410): a fixed 16-byte header and
        // the 32 random bytes, the DER form jsonwebtoken reads.
        let mut der = vec![
            0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22,
            0x04, 0x20,
        ];
        der.extend(rand::random::<[u8; 32]>());
        let key = EncodingKey::from_ed_der(&der);
        let mut jwk = Jwk::from_encoding_key(&key, Algorithm::EdDSA)
            .expect("an Ed25519 key has a public JWK");
        let kid = hex::encode(rand::random::<[u8; 8]>());
        jwk.common.key_id = Some(kid.clone());
        Self {
            issuer: issuer.trim_end_matches('/').to_owned(),
            key,
            kid,
            jwks: JwkSet { keys: vec![jwk] },
        }
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    pub fn jwks(&self) -> &JwkSet {
        &self.jwks
    }

    /// The OIDC discovery document (`/.well-known/openid-configuration`), as
    /// the API server serves it.
    pub fn discovery(&self) -> serde_json::Value {
        serde_json::json!({
            "issuer": self.issuer,
            "jwks_uri": format!("{}/openid/v1/jwks", self.issuer),
            "response_types_supported": ["id_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["EdDSA"],
        })
    }

    pub fn token(&self, subject: &str, audience: &str) -> String {
        let now = jsonwebtoken::get_current_timestamp();
        let claims = Claims {
            iss: self.issuer.clone(),
            sub: subject.to_owned(),
            aud: audience.to_owned(),
            iat: now,
            exp: now + TOKEN_LIFETIME.as_secs(),
        };
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, &claims, &self.key).expect("an Ed25519 key signs")
    }
}

/// The subject Knative Eventing delivers a Trigger's events as (its OIDC
/// ServiceAccount); the local broker signs with the same.
pub fn trigger_subject(namespace: &str, trigger: &str) -> String {
    format!("system:serviceaccount:{namespace}:{trigger}-oidc-eventing.knative.dev-trigger")
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{HeaderMap, HeaderValue, header::AUTHORIZATION};

    fn config(issuer: &str) -> DeliveryAuthConfig {
        DeliveryAuthConfig {
            issuer: issuer.into(),
            audience: "storefleet/create-store".into(),
            jwks: JwksLocation::Discovery,
            subjects: vec![crate::config::DEFAULT_DELIVERY_SUBJECTS.into()],
        }
    }

    fn bearer(token: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            AUTHORIZATION,
            HeaderValue::from_str(&format!("Bearer {token}")).unwrap(),
        );
        h
    }

    #[test]
    fn globs() {
        let p = crate::config::DEFAULT_DELIVERY_SUBJECTS;
        assert!(glob_matches(
            p,
            &trigger_subject("storefleet", "store-requested")
        ));
        assert!(!glob_matches(p, &trigger_subject("store-k7m2q9xd", "x")));
        assert!(!glob_matches(p, "system:serviceaccount:storefleet:default"));
        assert!(glob_matches("a*b*c", "abc") && glob_matches("a*b*c", "a-b-b-c"));
        assert!(!glob_matches("a*b*c", "ac") && !glob_matches("abc", "abcd"));
        assert!(glob_matches("exact", "exact"));
    }

    #[tokio::test]
    async fn only_the_issuers_tokens_for_this_audience_and_subject_pass() {
        let signer = Signer::generate("http://127.0.0.1:1");
        let auth = DeliveryAuth::with_keys(config(signer.issuer()), signer.jwks().clone());
        let sub = trigger_subject("storefleet", "store-requested");
        let good = signer.token(&sub, "storefleet/create-store");
        assert_eq!(auth.verify(&bearer(&good)).await.unwrap().sub, sub);

        let invalid = |d: Result<Claims, Denial>| matches!(d, Err(Denial::Invalid(_)));
        // another function's audience
        let other = signer.token(&sub, "storefleet/readiness-checker");
        assert!(invalid(auth.verify(&bearer(&other)).await));
        // a subject outside the Triggers' ServiceAccounts
        let pod = signer.token(
            "system:serviceaccount:store-k7m2q9xd:default",
            "storefleet/create-store",
        );
        assert!(invalid(auth.verify(&bearer(&pod)).await));
        // another key with the same kid and issuer (a forger's)
        let forger = Signer {
            kid: signer.kid.clone(),
            ..Signer::generate(signer.issuer())
        };
        let forged = forger.token(&sub, "storefleet/create-store");
        assert!(invalid(auth.verify(&bearer(&forged)).await));
        // another issuer
        let elsewhere = Signer::generate("http://127.0.0.1:2");
        let auth2 = DeliveryAuth::with_keys(config(signer.issuer()), elsewhere.jwks().clone());
        assert!(invalid(
            auth2
                .verify(&bearer(&elsewhere.token(&sub, "storefleet/create-store")))
                .await
        ));
        // alg none / HS256 with a made-up secret
        let hs = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &serde_json::json!({"iss": signer.issuer(), "aud": "storefleet/create-store", "sub": sub, "exp": u64::MAX / 2}),
            &EncodingKey::from_secret(b"guess").unwrap(),
        )
        .unwrap();
        assert!(invalid(auth.verify(&bearer(&hs)).await));
        let unsigned = format!("{}.e30.", "eyJhbGciOiJub25lIn0");
        assert!(invalid(auth.verify(&bearer(&unsigned)).await));
        // expired
        let mut expired = Header::new(Algorithm::EdDSA);
        expired.kid = Some(signer.kid.clone());
        let old = jsonwebtoken::encode(
            &expired,
            &Claims {
                iss: signer.issuer().into(),
                sub: sub.clone(),
                aud: "storefleet/create-store".into(),
                iat: 1,
                exp: 2,
            },
            &signer.key,
        )
        .unwrap();
        assert!(invalid(auth.verify(&bearer(&old)).await));
        // nothing at all
        assert!(matches!(
            auth.verify(&HeaderMap::new()).await,
            Err(Denial::Missing(_))
        ));
    }
}

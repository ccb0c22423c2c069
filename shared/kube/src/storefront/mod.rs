//! Does the storefront answer shoppers? Checked through the ingress
//! controller's Service with the store's `Host` header, as a shopper's
//! request would arrive.
//!
//! Why not the store's URL directly: from inside a pod `*.localhost` and
//! `*.127.0.0.1.nip.io` resolve to the pod itself, and in production DNS may
//! not exist yet. `STOREFLEET_STOREFRONT_CHECK_URL` points at the ingress
//! controller (e.g. `http://traefik.kube-system.svc`), and the `Host` header
//! selects the store's Ingress rule.
//!
//! What counts as "answers" (all three, so a half-set-up store never counts):
//! 1. `GET /` is 200, is not WooCommerce's "coming soon" page and shows
//!    products: WordPress is installed (not redirected to
//!    `/wp-admin/install.php`), the site is public to logged-out shoppers and
//!    its front page is the shop (the setup makes it so; WordPress's default
//!    is the "Hello world!" blog, which the README's promise of the shop at
//!    `/` and the dashboard's link to `/` would miss).
//! 2. `GET /?post_type=product` (the shop page, whatever the permalinks) is
//!    200 and not "coming soon": "store pages only" coming-soon mode hides
//!    only these.
//! 3. `GET /wp-json/wc/store/v1/products` is 200 with a JSON array:
//!    WooCommerce is active and its Store API (which checkout uses) works.
//!
//! Redirects are followed only when they stay on the store's host (WordPress'
//! canonical redirects, `/?post_type=product` -> `/shop/`), and always through
//! the ingress address, never by resolving the store's host.

use std::time::Duration;

use reqwest::header::{HOST, LOCATION};
use reqwest::{StatusCode, Url};

use crate::{Error, Result};

/// The CSS class every variant of WooCommerce's coming-soon page carries
/// (`woocommerce/patterns/coming-soon*.php`, block `woocommerce/coming-soon`).
const COMING_SOON_MARKER: &str = "wp-block-woocommerce-coming-soon";
/// The class WordPress's `post_class()` gives every product in a product
/// loop — the Product Collection block of block themes and WooCommerce's
/// classic `ul.products` alike (`fixtures/storefront/`).
const PRODUCT_CLASS: &str = "type-product";
const MAX_REDIRECTS: usize = 5;
/// Bodies beyond this are not read further (a storefront page is far smaller).
const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// The result of one check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StorefrontAnswer {
    Answers,
    NotYet { reason: String },
}

/// The storefront checker: a base URL, a timeout, one HTTP client.
#[derive(Debug, Clone)]
pub struct StorefrontCheck {
    base: Url,
    http: reqwest::Client,
}

impl StorefrontCheck {
    /// `base` is `STOREFLEET_STOREFRONT_CHECK_URL`; `timeout` bounds each request.
    pub fn new(base: &str, timeout: Duration) -> Result<Self> {
        let base = Url::parse(base).map_err(|err| {
            Error::Config(format!(
                "STOREFLEET_STOREFRONT_CHECK_URL {base:?} is not a URL ({err}); expected e.g. http://traefik.kube-system.svc"
            ))
        })?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(Error::Config(format!(
                "STOREFLEET_STOREFRONT_CHECK_URL {base} must be http or https"
            )));
        }
        let http = reqwest::Client::builder()
            .timeout(timeout)
            // We follow same-host redirects ourselves, through the ingress address.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|err| Error::Config(format!("cannot build the HTTP client: {err}")))?;
        Ok(Self { base, http })
    }

    /// Check the storefront of the store served at `host` (e.g. `k7m2q9xd.localhost`).
    pub async fn check(&self, host: &str) -> StorefrontAnswer {
        match self.check_inner(host).await {
            Ok(()) => StorefrontAnswer::Answers,
            Err(reason) => StorefrontAnswer::NotYet { reason },
        }
    }

    async fn check_inner(&self, host: &str) -> std::result::Result<(), String> {
        for path in ["/", "/?post_type=product"] {
            let body = self.fetch(host, path).await?;
            if body.contains(COMING_SOON_MARKER) {
                return Err(format!(
                    "{path} shows WooCommerce's \"coming soon\" page: the store is not public yet"
                ));
            }
            if path == "/" && !shows_products(&body) {
                return Err(
                    "/ shows no products: the front page is not the shop (WordPress's blog?) or no product is published"
                        .into(),
                );
            }
        }
        let body = self
            .fetch(host, "/wp-json/wc/store/v1/products")
            .await
            .map_err(|err| format!("the WooCommerce Store API is not available: {err}"))?;
        match serde_json::from_str::<serde_json::Value>(&body) {
            Ok(serde_json::Value::Array(_)) => Ok(()),
            _ => Err("the WooCommerce Store API (/wp-json/wc/store/v1/products) did not answer with a product list".into()),
        }
    }

    /// GET `path` with `Host: host`, following same-host redirects; the body of a 200.
    async fn fetch(&self, host: &str, path: &str) -> std::result::Result<String, String> {
        let mut path = path.to_owned();
        for _ in 0..=MAX_REDIRECTS {
            let url = self
                .base
                .join(&path)
                .map_err(|err| format!("bad path {path}: {err}"))?;
            let response = self
                .http
                .get(url)
                .header(HOST, host)
                .send()
                .await
                .map_err(|err| format!("GET {path} with Host {host}: {}", describe(&err)))?;
            let status = response.status();
            if status.is_redirection() {
                let location = response
                    .headers()
                    .get(LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                path = same_host_path(&location, host).ok_or_else(|| {
                    format!("GET {path} redirects away from the store's host to {location:?} (is the site URL set to {host}?)")
                })?;
                // WordPress sends every page there until its install has run.
                if path.starts_with("/wp-admin/install.php") {
                    return Err(
                        "WordPress is not installed yet (redirects to /wp-admin/install.php)"
                            .into(),
                    );
                }
                continue;
            }
            if status != StatusCode::OK {
                return Err(format!("GET {path} with Host {host} answered {status}"));
            }
            let body = read_limited(response)
                .await
                .map_err(|err| format!("GET {path}: {}", describe(&err)))?;
            return Ok(body);
        }
        Err(format!("GET {path}: more than {MAX_REDIRECTS} redirects"))
    }
}

/// Does a page list at least one product? A class token `type-product` on
/// an element (not merely a substring of another class).
fn shows_products(body: &str) -> bool {
    let is_boundary =
        |c: Option<char>| c.is_none_or(|c| c.is_ascii_whitespace() || c == '"' || c == '\'');
    body.match_indices(PRODUCT_CLASS).any(|(at, _)| {
        is_boundary(body[..at].chars().next_back())
            && is_boundary(body[at + PRODUCT_CLASS.len()..].chars().next())
    })
}

/// The path (and query) of a redirect target on the same host, if it is one.
fn same_host_path(location: &str, host: &str) -> Option<String> {
    if location.starts_with('/') && !location.starts_with("//") {
        return Some(location.to_owned());
    }
    let url = Url::parse(location).ok()?;
    let target = match url.port() {
        Some(port) => format!("{}:{port}", url.host_str()?),
        None => url.host_str()?.to_owned(),
    };
    (target.eq_ignore_ascii_case(host)).then(|| {
        let mut path = url.path().to_owned();
        if let Some(query) = url.query() {
            path.push('?');
            path.push_str(query);
        }
        path
    })
}

async fn read_limited(mut response: reqwest::Response) -> reqwest::Result<String> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        body.extend_from_slice(&chunk);
        if body.len() > MAX_BODY_BYTES {
            break;
        }
    }
    Ok(String::from_utf8_lossy(&body).into_owned())
}

fn describe(err: &reqwest::Error) -> String {
    if err.is_timeout() {
        "timed out".into()
    } else if err.is_connect() {
        "cannot connect to the ingress controller".into()
    } else {
        err.to_string()
    }
}

#[cfg(test)]
mod tests;

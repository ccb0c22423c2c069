//! The functions' configuration, read from the environment once at start
//! (names and defaults: `docs/development.md`). A missing or malformed
//! variable stops the process with a message naming it.

use std::env;

use secrecy::SecretString;
use storefleet_kube::rbac::{self, ServiceAccountRef};

use crate::{Error, Result};

pub use storefleet_domain::Engine;

/// `Debug` prints no secret: the URL (with its password) and the bootstrap
/// token are `SecretString`s, whose `Debug` is `[REDACTED]`; read them with
/// `secrecy::ExposeSecret` only where they are used.
#[derive(Debug, Clone)]
pub struct Config {
    pub port: u16,
    /// `STOREFLEET_LISTEN_ADDRESS`: the address `PORT` is bound on. All
    /// interfaces by default, as in a Knative pod (the queue-proxy and the
    /// kubelet's probes reach the container over the pod's network); the
    /// local broker, scripts/dev and the tests set `127.0.0.1`, so a
    /// function on a developer's machine is not reachable from the network.
    pub listen_address: std::net::IpAddr,
    /// `DATABASE_URL_FILE` (the platform chart mounts it) or `DATABASE_URL`.
    pub database_url: SecretString,
    pub database_max_connections: u32,
    /// Where CloudEvents go; required by the functions that emit (see [`Config::require_sink`]).
    pub k_sink: Option<String>,
    /// `K_SINK_TOKEN_FILE`: the OIDC token sent with each event (see [`crate::events::Emitter`]).
    pub k_sink_token_file: Option<String>,
    /// The first admin's token, from `STOREFLEET_BOOTSTRAP_ADMIN_TOKEN` or `..._FILE`.
    pub bootstrap_admin_token: Option<SecretString>,
    pub engines: Vec<Engine>,
    pub store_host_pattern: String,
    pub store_url_scheme: String,
    pub default_max_stores: i32,
    /// `STOREFLEET_MIGRATE_ON_START` (default true): apply pending migrations
    /// before serving. The platform chart sets it to false, since its
    /// migrations Job (`<function> migrate`) has already done it, and a
    /// cold start then makes no database round trip before `/healthz`.
    pub migrate_on_start: bool,
    /// The event chain's settings (create-store, delete-store, readiness-checker).
    pub chain: ChainConfig,
    /// `STOREFLEET_RATE_LIMIT_*`: the API's per-token limits ([`crate::rate_limit`]).
    pub rate_limits: crate::rate_limit::RateLimitConfig,
}

/// What the event handlers need besides the database (docs/development.md).
#[derive(Debug, Clone)]
pub struct ChainConfig {
    /// `STOREFLEET_MAX_HELM_IN_FLIGHT`: helm operations at once per process; above it, 429.
    pub max_helm_in_flight: usize,
    /// `STOREFLEET_PROVISIONING_TIMEOUT_SECONDS`: a store still provisioning after this is failed.
    pub provisioning_timeout: std::time::Duration,
    /// `STOREFLEET_REDRIVE_AFTER_SECONDS`: the sweep re-sends the event of a
    /// store that has not moved for this long (its event was probably lost).
    pub redrive_after: std::time::Duration,
    /// `STOREFLEET_SWEEP_INTERVAL_SECONDS`: at most one sweep per this
    /// interval, however many ping events arrive.
    pub sweep_interval: std::time::Duration,
    /// `STOREFLEET_HELM_BIN`
    pub helm_bin: String,
    /// `STOREFLEET_STORE_CHART`
    pub store_chart: String,
    /// `STOREFLEET_STORE_VALUES` (comma list)
    pub store_values: String,
    /// `STOREFLEET_STOREFRONT_CHECK_URL`; unset: the storefront check is skipped (and logged).
    pub storefront_check_url: Option<String>,
    /// `STOREFLEET_STORE_MANAGER_SUBJECTS`: ServiceAccounts bound to
    /// `storefleet-store-manager` in each store namespace (at least one).
    pub store_manager_subjects: Vec<ServiceAccountRef>,
    /// `STOREFLEET_STORE_READER_SUBJECTS`: ServiceAccounts bound to
    /// `storefleet-store-reader` (get `store-admin`) in each store
    /// namespace; empty or unset: no reader binding.
    pub store_reader_subjects: Vec<ServiceAccountRef>,
    /// `STOREFLEET_STORE_DELETER_SUBJECTS`: ServiceAccounts bound to
    /// `storefleet-store-deleter` (what `helm uninstall` needs) in each store
    /// namespace; empty or unset: no deleter binding.
    pub store_deleter_subjects: Vec<ServiceAccountRef>,
    /// `STOREFLEET_STORE_CHECKER_SUBJECTS`: ServiceAccounts bound to
    /// `storefleet-store-checker` (list the store's pods, events and
    /// workloads: readiness-checker) in each store namespace; empty or
    /// unset: no checker binding.
    pub store_checker_subjects: Vec<ServiceAccountRef>,
    /// `STOREFLEET_STORE_WATCHER_SUBJECTS`: ServiceAccounts bound to
    /// `storefleet-store-watcher` (get/list/watch the store's pods and
    /// workloads: the ApiServerSource) in each store namespace; empty or
    /// unset: no watcher binding.
    pub store_watcher_subjects: Vec<ServiceAccountRef>,
    /// `STOREFLEET_EVENTS_OIDC_*`: how `/events` and `/dead-letters`
    /// authenticate their deliveries ([`crate::chain::oidc`]); `None` when
    /// the issuer is unset (the functions with event endpoints refuse to start).
    pub delivery_auth: Option<DeliveryAuthConfig>,
}

/// Who may deliver events: OIDC tokens of `issuer` for `audience`, whose
/// subject matches one of `subjects` (docs/events.md, "Authenticated deliveries").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryAuthConfig {
    /// `STOREFLEET_EVENTS_OIDC_ISSUER`: the tokens' `iss` (the cluster's
    /// ServiceAccount issuer, or the local broker's URL).
    pub issuer: String,
    /// `STOREFLEET_EVENTS_OIDC_AUDIENCE` (default `storefleet/$K_SERVICE`):
    /// the `aud` the Triggers' `subscriber.audience` names for this function.
    pub audience: String,
    /// `STOREFLEET_EVENTS_OIDC_JWKS`: where the verification keys are.
    pub jwks: JwksLocation,
    /// `STOREFLEET_EVENTS_OIDC_SUBJECTS` (comma list, `*` matches any run of
    /// characters): the `sub` claims accepted.
    pub subjects: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JwksLocation {
    /// `discovery` (default): `<issuer>/.well-known/openid-configuration`'s `jwks_uri`.
    Discovery,
    /// `kubernetes`: the API server's `/openid/v1/jwks`, read with the
    /// function's own credentials (in a cluster the issuer's discovery URL is
    /// often not reachable without them).
    Kubernetes,
    /// An http(s) URL of the key set.
    Url(String),
}

/// The ServiceAccounts Knative Eventing (≥ 1.16) delivers a Trigger's events
/// with: `<trigger>-oidc-eventing.knative.dev-trigger` in the Trigger's
/// namespace; the local broker signs as the same names.
pub const DEFAULT_DELIVERY_SUBJECTS: &str =
    "system:serviceaccount:storefleet:*-oidc-eventing.knative.dev-trigger";

fn delivery_auth(get: &dyn Fn(&str) -> Option<String>) -> Result<Option<DeliveryAuthConfig>> {
    let Some(issuer) = get("STOREFLEET_EVENTS_OIDC_ISSUER") else {
        return Ok(None);
    };
    let issuer = issuer.trim().trim_end_matches('/').to_owned();
    if !(issuer.starts_with("https://") || issuer.starts_with("http://")) {
        return Err(Error::Config(format!(
            "STOREFLEET_EVENTS_OIDC_ISSUER={issuer:?} must be an http(s) URL (the tokens' iss)"
        )));
    }
    let audience = match (get("STOREFLEET_EVENTS_OIDC_AUDIENCE"), get("K_SERVICE")) {
        (Some(audience), _) => audience.trim().to_owned(),
        (None, Some(service)) => format!("storefleet/{}", service.trim()),
        (None, None) => {
            return Err(Error::Config(
                "STOREFLEET_EVENTS_OIDC_AUDIENCE is not set and there is no K_SERVICE to derive it from (storefleet/<function>)".into(),
            ));
        }
    };
    let jwks = match get("STOREFLEET_EVENTS_OIDC_JWKS").as_deref().map(str::trim) {
        None | Some("discovery") => JwksLocation::Discovery,
        Some("kubernetes") => JwksLocation::Kubernetes,
        Some(url) if url.starts_with("https://") || url.starts_with("http://") => {
            JwksLocation::Url(url.to_owned())
        }
        Some(other) => {
            return Err(Error::Config(format!(
                "STOREFLEET_EVENTS_OIDC_JWKS={other:?} must be discovery, kubernetes or an http(s) URL"
            )));
        }
    };
    let subjects: Vec<String> = get("STOREFLEET_EVENTS_OIDC_SUBJECTS")
        .unwrap_or_else(|| DEFAULT_DELIVERY_SUBJECTS.to_owned())
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    if subjects.is_empty() || subjects.iter().any(|s| s == "*") {
        return Err(Error::Config(
            "STOREFLEET_EVENTS_OIDC_SUBJECTS must name the senders' subjects (a lone * would accept any ServiceAccount of the cluster)".into(),
        ));
    }
    Ok(Some(DeliveryAuthConfig {
        issuer,
        audience,
        jwks,
        subjects,
    }))
}

/// A secret given as `NAME` or as a file named by `NAME_FILE` (what the
/// platform chart does: a mounted Secret, never an environment variable,
/// which every child process inherits and `/proc/<pid>/environ` shows).
/// Trimmed; an error names the variable, never the value.
fn value_or_file(get: &impl Fn(&str) -> Option<String>, name: &str) -> Result<Option<String>> {
    let file_var = format!("{name}_FILE");
    match (get(name), get(&file_var)) {
        (Some(_), Some(_)) => Err(Error::Config(format!("set {name} or {file_var}, not both"))),
        (Some(value), None) => Ok(Some(value.trim().to_owned())),
        (None, Some(path)) => std::fs::read_to_string(&path)
            .map(|value| Some(value.trim().to_owned()))
            .map_err(|err| Error::Config(format!("{file_var}={path:?} cannot be read: {err}"))),
        (None, None) => Ok(None),
    }
}

impl Config {
    pub fn from_env() -> Result<Self> {
        Self::from_lookup(|name| env::var(name).ok())
    }

    /// Read from any lookup (tests pass a map instead of the process environment).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let parsed = |name: &str, default: &str| -> Result<String> {
            Ok(get(name).unwrap_or_else(|| default.to_owned()))
        };
        let number = |name: &str, default: u32, min: u32, max: u32| -> Result<u32> {
            match get(name) {
                None => Ok(default),
                Some(raw) => raw
                    .trim()
                    .parse::<u32>()
                    .ok()
                    .filter(|n| (min..=max).contains(n))
                    .ok_or_else(|| {
                        Error::Config(format!(
                            "{name}={raw:?} is not a whole number in {min}..={max}"
                        ))
                    }),
            }
        };

        let database_url = value_or_file(&get, "DATABASE_URL")?.ok_or_else(|| {
            Error::Config("DATABASE_URL_FILE (or DATABASE_URL) is not set (e.g. postgres://storefleet:storefleet@127.0.0.1:5432/storefleet)".into())
        })?;
        if !(database_url.starts_with("postgres://") || database_url.starts_with("postgresql://")) {
            return Err(Error::Config(
                "DATABASE_URL must start with postgres:// or postgresql://".into(),
            ));
        }
        let database_url = SecretString::from(database_url);

        let bootstrap_admin_token = value_or_file(&get, "STOREFLEET_BOOTSTRAP_ADMIN_TOKEN")?;
        if let Some(token) = &bootstrap_admin_token {
            check_bootstrap_token(token)?;
        }

        let engines = parsed("STOREFLEET_ENGINES", "woocommerce")?
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse::<Engine>()
                    .map_err(|err| Error::Config(format!("STOREFLEET_ENGINES: {err}")))
            })
            .collect::<Result<Vec<_>>>()?;

        let store_host_pattern = parsed("STOREFLEET_STORE_HOST_PATTERN", "{id}.localhost")?;
        if !store_host_pattern.contains("{id}") {
            return Err(Error::Config(format!(
                "STOREFLEET_STORE_HOST_PATTERN={store_host_pattern:?} must contain {{id}}"
            )));
        }
        let store_url_scheme = parsed("STOREFLEET_STORE_URL_SCHEME", "http")?;
        if store_url_scheme != "http" && store_url_scheme != "https" {
            return Err(Error::Config(format!(
                "STOREFLEET_STORE_URL_SCHEME={store_url_scheme:?} must be http or https"
            )));
        }
        let k_sink = get("K_SINK");
        if let Some(sink) = &k_sink
            && !(sink.starts_with("http://") || sink.starts_with("https://"))
        {
            return Err(Error::Config(format!(
                "K_SINK={sink:?} must be an http(s) URL"
            )));
        }

        let storefront_check_url = get("STOREFLEET_STOREFRONT_CHECK_URL");
        if let Some(url) = &storefront_check_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return Err(Error::Config(format!(
                "STOREFLEET_STOREFRONT_CHECK_URL={url:?} must be an http(s) URL (the ingress controller's Service)"
            )));
        }
        let chain = ChainConfig {
            max_helm_in_flight: number("STOREFLEET_MAX_HELM_IN_FLIGHT", 4, 1, 1000)? as usize,
            provisioning_timeout: std::time::Duration::from_secs(u64::from(number(
                "STOREFLEET_PROVISIONING_TIMEOUT_SECONDS",
                900,
                1,
                86_400,
            )?)),
            redrive_after: std::time::Duration::from_secs(u64::from(number(
                "STOREFLEET_REDRIVE_AFTER_SECONDS",
                120,
                1,
                86_400,
            )?)),
            sweep_interval: std::time::Duration::from_secs(u64::from(number(
                "STOREFLEET_SWEEP_INTERVAL_SECONDS",
                30,
                0,
                86_400,
            )?)),
            helm_bin: parsed("STOREFLEET_HELM_BIN", "helm")?,
            store_chart: parsed("STOREFLEET_STORE_CHART", "helm/store")?,
            store_values: parsed("STOREFLEET_STORE_VALUES", "helm/store/values-local.yaml")?,
            storefront_check_url,
            store_manager_subjects: rbac::parse_subjects(&parsed(
                rbac::MANAGER_SUBJECTS_VAR,
                "storefleet/create-store,storefleet/delete-store,storefleet/readiness-checker",
            )?)
            .map_err(subjects_error)?,
            store_reader_subjects: rbac::parse_reader_subjects(&parsed(
                rbac::READER_SUBJECTS_VAR,
                "",
            )?)
            .map_err(subjects_error)?,
            store_deleter_subjects: rbac::parse_deleter_subjects(&parsed(
                rbac::DELETER_SUBJECTS_VAR,
                "",
            )?)
            .map_err(subjects_error)?,
            store_checker_subjects: rbac::parse_checker_subjects(&parsed(
                rbac::CHECKER_SUBJECTS_VAR,
                "",
            )?)
            .map_err(subjects_error)?,
            store_watcher_subjects: rbac::parse_watcher_subjects(&parsed(
                rbac::WATCHER_SUBJECTS_VAR,
                "",
            )?)
            .map_err(subjects_error)?,
            delivery_auth: delivery_auth(&get)?,
        };

        let rate = |name: &str, default: u32| -> Result<std::num::NonZeroU32> {
            Ok(
                std::num::NonZeroU32::new(number(name, default, 1, 1_000_000)?)
                    .expect("number() keeps it at least 1"),
            )
        };
        let rate_limits = crate::rate_limit::RateLimitConfig {
            per_token_per_second: rate("STOREFLEET_RATE_LIMIT_PER_TOKEN", 10)?,
            per_token_burst: rate("STOREFLEET_RATE_LIMIT_BURST", 20)?,
            unverified_per_second: rate("STOREFLEET_RATE_LIMIT_UNVERIFIED", 20)?,
            unverified_burst: rate("STOREFLEET_RATE_LIMIT_UNVERIFIED_BURST", 40)?,
        };

        Ok(Config {
            chain,
            rate_limits,
            // 0: a port the system chooses (the test platform reads it back
            // from STOREFLEET_BOUND_ADDRESS_FILE)
            port: number("PORT", 8080, 0, 65535)? as u16,
            listen_address: listen_address(&parsed("STOREFLEET_LISTEN_ADDRESS", "0.0.0.0")?)?,
            database_url,
            database_max_connections: number("DATABASE_MAX_CONNECTIONS", 5, 1, 1000)?,
            k_sink,
            k_sink_token_file: get("K_SINK_TOKEN_FILE"),
            bootstrap_admin_token: bootstrap_admin_token.map(SecretString::from),
            engines,
            store_host_pattern,
            store_url_scheme,
            default_max_stores: number("STOREFLEET_DEFAULT_MAX_STORES", 5, 0, 10_000)? as i32,
            migrate_on_start: match get("STOREFLEET_MIGRATE_ON_START").as_deref().map(str::trim) {
                None | Some("true") => true,
                Some("false") => false,
                Some(other) => {
                    return Err(Error::Config(format!(
                        "STOREFLEET_MIGRATE_ON_START={other:?} must be true or false"
                    )));
                }
            },
        })
    }

    /// The functions that emit CloudEvents refuse to start without `K_SINK`.
    pub fn require_sink(&self) -> Result<&str> {
        self.k_sink
            .as_deref()
            .ok_or_else(|| Error::Config("K_SINK is not set (the Broker's URL; the local broker's is http://127.0.0.1:8090/broker/default)".into()))
    }

    pub fn engine_enabled(&self, engine: Engine) -> bool {
        self.engines.contains(&engine)
    }

    /// The storefront host of a store (`STOREFLEET_STORE_HOST_PATTERN`).
    pub fn store_host(&self, id: &str) -> String {
        self.store_host_pattern.replace("{id}", id)
    }

    /// `<scheme>://<host>` of a store.
    pub fn store_base_url(&self, id: &str) -> String {
        format!(
            "{}://{}",
            self.store_url_scheme,
            self.store_host_pattern.replace("{id}", id)
        )
    }
}

/// The bootstrap admin token is an admin's password for the whole platform:
/// at least [`MIN_BOOTSTRAP_TOKEN_LEN`] characters, and not a pattern (a
/// generated token of that length has far more than 10 distinct characters).
pub const MIN_BOOTSTRAP_TOKEN_LEN: usize = 32;

fn check_bootstrap_token(token: &str) -> Result<()> {
    let distinct = token
        .chars()
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    if token.chars().count() < MIN_BOOTSTRAP_TOKEN_LEN || distinct < 10 {
        return Err(Error::Config(format!(
            "the bootstrap admin token (STOREFLEET_BOOTSTRAP_ADMIN_TOKEN or its _FILE) must be at least {MIN_BOOTSTRAP_TOKEN_LEN} random characters, e.g. the output of `openssl rand -hex 24`"
        )));
    }
    Ok(())
}

/// A subject list's error, whose message already names the variable and the item.
fn subjects_error(err: storefleet_kube::Error) -> Error {
    match err {
        storefleet_kube::Error::Config(message) => Error::Config(message),
        other => Error::Config(other.to_string()),
    }
}

/// An IP address (no host name: nothing is resolved at start).
fn listen_address(raw: &str) -> Result<std::net::IpAddr> {
    raw.trim().parse().map_err(|_| {
        Error::Config(format!(
            "STOREFLEET_LISTEN_ADDRESS={raw:?} is not an IP address (e.g. 127.0.0.1, or 0.0.0.0 for all interfaces)"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn defaults() {
        let c = config(&[("DATABASE_URL", "postgres://x@y/z")]).unwrap();
        assert_eq!(c.port, 8080);
        assert_eq!(c.listen_address.to_string(), "0.0.0.0");
        assert_eq!(c.engines, vec![Engine::WooCommerce]);
        assert_eq!(c.store_base_url("k7m2q9xd"), "http://k7m2q9xd.localhost");
    }

    #[test]
    fn the_listen_address_is_an_ip_address() {
        let c = config(&[
            ("DATABASE_URL", "postgres://x@y/z"),
            ("STOREFLEET_LISTEN_ADDRESS", "127.0.0.1"),
        ])
        .unwrap();
        assert!(c.listen_address.is_loopback());
        let err = config(&[
            ("DATABASE_URL", "postgres://x@y/z"),
            ("STOREFLEET_LISTEN_ADDRESS", "localhost"),
        ])
        .unwrap_err()
        .to_string();
        assert!(err.contains("STOREFLEET_LISTEN_ADDRESS"), "{err}");
    }

    #[test]
    fn errors_name_the_variable() {
        let err = config(&[]).unwrap_err().to_string();
        assert!(err.contains("DATABASE_URL"), "{err}");
        let err = config(&[("DATABASE_URL", "postgres://x"), ("PORT", "eighty")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("PORT"), "{err}");
        let err = config(&[
            ("DATABASE_URL", "postgres://x"),
            ("STOREFLEET_ENGINES", "shopify"),
        ])
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("STOREFLEET_ENGINES") && err.contains("shopify"),
            "{err}"
        );
        let err = config(&[
            ("DATABASE_URL", "postgres://x"),
            ("STOREFLEET_STORE_HOST_PATTERN", "x.com"),
        ])
        .unwrap_err()
        .to_string();
        assert!(err.contains("{id}"), "{err}");
    }

    #[test]
    fn the_bootstrap_token_is_long_and_random() {
        let with = |token: &str| {
            config(&[
                ("DATABASE_URL", "postgres://x@y/z"),
                ("STOREFLEET_BOOTSTRAP_ADMIN_TOKEN", token),
            ])
        };
        for weak in [
            "bootstrap-token-0123456789",
            &"a".repeat(64),
            &"ab".repeat(20),
            "0123456789abcdef0123456789abcde",
        ] {
            let err = with(weak).unwrap_err().to_string();
            assert!(
                err.contains("at least 32 random characters") && !err.contains(weak),
                "{weak}: {err}"
            );
        }
        let c = with("9f1c2e7a4b8d0e3f6a5c1b2d9e8f7a6b5c4d3e2f").unwrap();
        assert!(c.bootstrap_admin_token.is_some());
    }

    #[test]
    fn store_role_binding_subjects() {
        let sa = |name: &str| ServiceAccountRef {
            namespace: "storefleet".into(),
            name: name.into(),
        };
        let c = config(&[("DATABASE_URL", "postgres://x@y/z")]).unwrap();
        assert!(!c.chain.store_manager_subjects.contains(&sa("list-stores")));
        assert!(c.chain.store_manager_subjects.contains(&sa("create-store")));
        assert_eq!(
            c.chain.store_reader_subjects,
            vec![],
            "unset: no reader binding"
        );
        let c = config(&[
            ("DATABASE_URL", "postgres://x@y/z"),
            ("STOREFLEET_STORE_READER_SUBJECTS", "storefleet/list-stores"),
        ])
        .unwrap();
        assert_eq!(c.chain.store_reader_subjects, vec![sa("list-stores")]);
        let c = config(&[
            ("DATABASE_URL", "postgres://x@y/z"),
            ("STOREFLEET_STORE_READER_SUBJECTS", " "),
        ])
        .unwrap();
        assert_eq!(
            c.chain.store_reader_subjects,
            vec![],
            "empty: no reader binding"
        );
        for (name, value) in [
            (
                "STOREFLEET_STORE_READER_SUBJECTS",
                "storefleet/list-stores,list-stores",
            ),
            (
                "STOREFLEET_STORE_MANAGER_SUBJECTS",
                "storefleet/create-store,a/b/c",
            ),
        ] {
            let err = config(&[("DATABASE_URL", "postgres://x@y/z"), (name, value)])
                .unwrap_err()
                .to_string();
            assert!(
                err.starts_with(&format!("configuration: {name}: "))
                    && err.contains("is not namespace/name"),
                "{err}"
            );
        }
    }

    #[test]
    fn debug_prints_neither_the_database_url_nor_the_bootstrap_token() {
        let c = config(&[
            (
                "DATABASE_URL",
                "postgres://storefleet:Pa55w0rdXYZ@db/storefleet",
            ),
            (
                "STOREFLEET_BOOTSTRAP_ADMIN_TOKEN",
                "bootstrap-token-0123456789abcdef",
            ),
        ])
        .unwrap();
        let printed = format!("{c:?}");
        assert!(!printed.contains("Pa55w0rdXYZ"), "{printed}");
        assert!(
            !printed.contains("bootstrap-token-0123456789abcdef"),
            "{printed}"
        );
        assert!(printed.contains("REDACTED"));
        use secrecy::ExposeSecret;
        assert_eq!(
            c.database_url.expose_secret(),
            "postgres://storefleet:Pa55w0rdXYZ@db/storefleet"
        );
    }

    #[test]
    fn the_database_url_comes_from_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("url");
        std::fs::write(&file, "postgres://u:p@db/storefleet\n").unwrap();
        let path = file.to_str().unwrap();
        let c = config(&[("DATABASE_URL_FILE", path)]).unwrap();
        use secrecy::ExposeSecret;
        assert_eq!(
            c.database_url.expose_secret(),
            "postgres://u:p@db/storefleet"
        );
        let err = config(&[
            ("DATABASE_URL_FILE", path),
            ("DATABASE_URL", "postgres://x"),
        ])
        .unwrap_err()
        .to_string();
        assert!(err.contains("not both"), "{err}");
        let err = config(&[("DATABASE_URL_FILE", "/nonexistent/url")])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("DATABASE_URL_FILE") && !err.contains("postgres"),
            "{err}"
        );
    }
}

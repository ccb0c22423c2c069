//! Against a real HTTP server on loopback that routes by `Host` like an
//! ingress controller would.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::*;

/// What the fake store serves.
#[derive(Clone, Copy, PartialEq)]
enum Shop {
    Ready,
    BlogHome,
    ComingSoon,
    StorePagesComingSoon,
    NotInstalled,
    NoWooCommerce,
    RedirectsElsewhere,
    Slow,
}

#[derive(Clone)]
struct Fake {
    shop: Shop,
    hosts_seen: Arc<Mutex<Vec<String>>>,
}

const HOST: &str = "k7m2q9xd.localhost";

fn fixture(name: &str) -> &'static str {
    match name {
        "blog-home.html" => include_str!("../../fixtures/storefront/blog-home.html"),
        "shop-home-blocks.html" => include_str!("../../fixtures/storefront/shop-home-blocks.html"),
        "shop-home-classic.html" => {
            include_str!("../../fixtures/storefront/shop-home-classic.html")
        }
        "shop-home-empty.html" => include_str!("../../fixtures/storefront/shop-home-empty.html"),
        _ => panic!("no fixture {name}"),
    }
}

async fn serve(State(fake): State<Fake>, headers: HeaderMap, request: Request) -> Response {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    fake.hosts_seen.lock().unwrap().push(host.clone());
    if host != HOST {
        // An ingress controller answers 404 for an unknown host.
        return StatusCode::NOT_FOUND.into_response();
    }
    let target = request
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    let page =
        |body: &str| ([(header::CONTENT_TYPE, "text/html")], body.to_owned()).into_response();
    let redirect =
        |to: &str| (StatusCode::FOUND, [(header::LOCATION, to.to_owned())]).into_response();
    let coming_soon = r#"<html><body><div class="wp-block-woocommerce-coming-soon">Great things are on the horizon</div></body></html>"#;
    match (fake.shop, target.as_str()) {
        (Shop::Slow, _) => {
            tokio::time::sleep(Duration::from_secs(5)).await;
            page("late")
        }
        (Shop::NotInstalled, _) => redirect(&format!("http://{HOST}/wp-admin/install.php")),
        (Shop::RedirectsElsewhere, "/") => redirect("http://other.example.com/"),
        (Shop::ComingSoon, "/") => page(coming_soon),
        (Shop::BlogHome, "/") => page(fixture("blog-home.html")),
        (_, "/") => page(fixture("shop-home-blocks.html")),
        // WordPress' canonical redirect of the shop archive, absolute and on the store's host.
        (_, "/?post_type=product") => redirect(&format!("http://{HOST}/shop/")),
        (Shop::StorePagesComingSoon, "/shop/") => page(coming_soon),
        (_, "/shop/") => page("<html><body class=\"woocommerce-shop\">Products</body></html>"),
        (_, "/wp-admin/install.php") => page("<html>WordPress installation</html>"),
        (Shop::NoWooCommerce, "/wp-json/wc/store/v1/products") => {
            (StatusCode::NOT_FOUND, r#"{"code":"rest_no_route"}"#).into_response()
        }
        (_, "/wp-json/wc/store/v1/products") => (
            [(header::CONTENT_TYPE, "application/json")],
            r#"[{"id":12,"name":"Demo product"}]"#,
        )
            .into_response(),
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn start(shop: Shop) -> (String, Arc<Mutex<Vec<String>>>) {
    let hosts_seen = Arc::new(Mutex::new(Vec::new()));
    let app = Router::new().fallback(serve).with_state(Fake {
        shop,
        hosts_seen: hosts_seen.clone(),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{address}"), hosts_seen)
}

async fn check(shop: Shop) -> StorefrontAnswer {
    let (base, _) = start(shop).await;
    StorefrontCheck::new(&base, Duration::from_secs(2))
        .unwrap()
        .check(HOST)
        .await
}

#[track_caller]
fn not_yet(answer: StorefrontAnswer, part: &str) {
    match answer {
        StorefrontAnswer::NotYet { reason } => {
            assert!(reason.contains(part), "{reason:?} lacks {part:?}")
        }
        other => panic!("expected NotYet, got {other:?}"),
    }
}

#[tokio::test]
async fn a_public_shop_with_woocommerce_answers_and_every_request_carries_the_store_host() {
    let (base, hosts_seen) = start(Shop::Ready).await;
    let answer = StorefrontCheck::new(&base, Duration::from_secs(2))
        .unwrap()
        .check(HOST)
        .await;
    assert_eq!(answer, StorefrontAnswer::Answers);
    let hosts = hosts_seen.lock().unwrap();
    assert_eq!(hosts.len(), 4, "/, /?post_type=product, /shop/, Store API");
    assert!(hosts.iter().all(|h| h == HOST));
}

#[tokio::test]
async fn the_coming_soon_page_is_not_an_answer() {
    not_yet(check(Shop::ComingSoon).await, "coming soon");
    not_yet(
        check(Shop::StorePagesComingSoon).await,
        "/?post_type=product shows WooCommerce's \"coming soon\"",
    );
}

#[tokio::test]
async fn the_blog_as_front_page_is_not_an_answer() {
    not_yet(check(Shop::BlogHome).await, "/ shows no products");
}

#[test]
fn products_are_found_on_the_shop_front_page_of_block_and_classic_themes() {
    assert!(shows_products(fixture("shop-home-blocks.html")));
    assert!(shows_products(fixture("shop-home-classic.html")));
    assert!(!shows_products(fixture("blog-home.html")), "the blog");
    assert!(
        !shows_products(fixture("shop-home-empty.html")),
        "a shop without products"
    );
    // the class token itself, not a longer class containing it
    assert!(!shows_products(r#"<body class="post-type-product">"#));
    assert!(!shows_products(r#"<li class="type-products">"#));
    assert!(shows_products(r#"<li class='type-product'>"#));
}

#[tokio::test]
async fn an_uninstalled_wordpress_is_not_an_answer() {
    not_yet(check(Shop::NotInstalled).await, "not installed");
}

#[tokio::test]
async fn without_the_store_api_it_is_not_an_answer() {
    not_yet(check(Shop::NoWooCommerce).await, "Store API");
}

#[tokio::test]
async fn redirects_to_another_host_are_not_followed() {
    not_yet(
        check(Shop::RedirectsElsewhere).await,
        "redirects away from the store's host",
    );
}

#[tokio::test]
async fn an_unknown_host_is_a_404_from_the_ingress() {
    let (base, _) = start(Shop::Ready).await;
    let answer = StorefrontCheck::new(&base, Duration::from_secs(2))
        .unwrap()
        .check("other.localhost")
        .await;
    not_yet(answer, "answered 404");
}

#[tokio::test]
async fn slow_answers_time_out() {
    let (base, _) = start(Shop::Slow).await;
    let started = std::time::Instant::now();
    let answer = StorefrontCheck::new(&base, Duration::from_millis(300))
        .unwrap()
        .check(HOST)
        .await;
    not_yet(answer, "timed out");
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn nothing_listening_is_not_an_answer() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let answer = StorefrontCheck::new(&base, Duration::from_secs(2))
        .unwrap()
        .check(HOST)
        .await;
    not_yet(answer, "cannot connect");
}

#[test]
fn a_bad_base_url_says_what_to_fix() {
    let err = StorefrontCheck::new("traefik.kube-system", Duration::from_secs(1)).unwrap_err();
    assert!(
        err.to_string().contains("STOREFLEET_STOREFRONT_CHECK_URL"),
        "{err}"
    );
    assert!(StorefrontCheck::new("ftp://x", Duration::from_secs(1)).is_err());
}

#[test]
fn only_same_host_redirects_are_followed() {
    assert_eq!(same_host_path("/shop/", HOST).as_deref(), Some("/shop/"));
    assert_eq!(
        same_host_path(&format!("http://{HOST}/shop/?a=1"), HOST).as_deref(),
        Some("/shop/?a=1")
    );
    assert_eq!(same_host_path("https://evil.example/", HOST), None);
    assert_eq!(same_host_path("//evil.example/", HOST), None);
}

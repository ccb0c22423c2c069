//! The OpenAPI document of the whole API, derived from the route code of
//! every function (utoipa). Checked in at `docs/openapi.json`; the test
//! `openapi_is_checked_in` fails when the two drift.

use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::routes::{account, stores};

#[derive(OpenApi)]
#[openapi(
    info(title = "Storefleet API", description = "Provision isolated WooCommerce stores on Kubernetes. Errors are application/problem+json (RFC 9457).", version = "0.1.0"),
    paths(
        create_store::routes::create,
        stores::list, stores::get_one, stores::activity, stores::credentials,
        delete_store::routes::delete_store,
        account::me, account::engines, account::create_user,
    ),
    components(schemas(storefleet_shared::error::Problem)),
    modifiers(&BearerAuth, &Unavailable, &MethodNotAllowed, &BadPath, &StoreLinks, &NamePattern),
    tags((name = "stores", description = "the caller's stores"), (name = "account", description = "the caller, users and engines"))
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

/// Every route that needs a token reads PostgreSQL (the token's hash first),
/// so every one of them can answer `503` + `Retry-After` when the database
/// is down, and `429` + `Retry-After` past the token's rate limit (checked
/// before the lookup, [`storefleet_shared::rate_limit`]): added to each here
/// rather than repeated in every route.
struct Unavailable;

fn problem_with_retry_after(
    description: &str,
    retry_after: &str,
) -> utoipa::openapi::response::Response {
    problem_with_header(
        description,
        "Retry-After",
        retry_after,
        utoipa::openapi::schema::Type::Integer,
    )
}

/// A problem+json answer that carries one documented header.
fn problem_with_header(
    description: &str,
    header: &str,
    header_description: &str,
    header_type: utoipa::openapi::schema::Type,
) -> utoipa::openapi::response::Response {
    use utoipa::openapi::schema::Object;
    use utoipa::openapi::{ContentBuilder, HeaderBuilder, Ref, ResponseBuilder};
    let value = HeaderBuilder::new()
        .schema(Object::with_type(header_type))
        .description(Some(header_description))
        .build();
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/problem+json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build(),
        )
        .header(header, value)
        .build()
}

impl Modify for Unavailable {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let unavailable = problem_with_retry_after(
            "a dependency (PostgreSQL, Kubernetes) is not reachable; retry after Retry-After seconds",
            &format!(
                "seconds to wait before retrying ({})",
                storefleet_shared::error::RETRY_AFTER_SECONDS
            ),
        );
        let rate_limited = problem_with_retry_after(
            "too many requests with this token, or with tokens not seen lately (docs/api.md, Rate limits); retry after Retry-After seconds",
            "seconds until the token's bucket admits a request again (at least 1)",
        );
        for item in openapi.paths.paths.values_mut() {
            for operation in [&mut item.get, &mut item.post, &mut item.delete]
                .into_iter()
                .flatten()
            {
                if operation.security.is_some() {
                    let responses = &mut operation.responses.responses;
                    responses
                        .entry("429".into())
                        .or_insert_with(|| rate_limited.clone().into());
                    responses
                        .entry("503".into())
                        .or_insert_with(|| unavailable.clone().into());
                }
            }
        }
    }
}

/// Every path answers a method it does not take with `405` problem+json and
/// `Allow` (the functions through axum's method router, the gateways from
/// each path's methods, local-broker's `gateway::API_PATHS`): declared on
/// each operation of the path, with the path's methods, since OpenAPI has no
/// place for a path-wide answer.
struct MethodNotAllowed;

impl Modify for MethodNotAllowed {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            let methods: Vec<&str> = [
                ("GET", item.get.is_some()),
                ("POST", item.post.is_some()),
                ("DELETE", item.delete.is_some()),
            ]
            .into_iter()
            .filter_map(|(m, present)| present.then_some(m))
            .collect();
            let allow = methods.join(", ");
            let response = problem_with_header(
                &format!("another method than {allow} on this path; nothing is done"),
                "Allow",
                &format!("the methods this path takes ({allow}; HEAD with GET)"),
                utoipa::openapi::schema::Type::String,
            );
            declare_on_each_operation(item, "405", &response);
        }
    }
}

/// Adds `response` as `status` to each operation of `item` that does not
/// declare that status itself.
fn declare_on_each_operation(
    item: &mut utoipa::openapi::PathItem,
    status: &str,
    response: &utoipa::openapi::response::Response,
) {
    for operation in [&mut item.get, &mut item.post, &mut item.delete]
        .into_iter()
        .flatten()
    {
        operation
            .responses
            .responses
            .entry(status.into())
            .or_insert_with(|| response.clone().into());
    }
}

/// A path parameter can carry anything, also `%2F`, `%5C` or a `.`/`..`
/// segment: the dev gateway refuses such a path with `400` before any function
/// sees it (the local broker's `gateway.rs`; found by schemathesis), so every
/// operation with a path parameter declares that answer.
struct BadPath;

impl Modify for BadPath {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
        let response = ResponseBuilder::new()
            .description("the path has a `.` or `..` segment or an encoded `/` or `\\`: send the normalised path; nothing is done")
            .content(
                "application/problem+json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("Problem")))
                    .build(),
            )
            .build();
        for (path, item) in openapi.paths.paths.iter_mut() {
            if !path.contains('{') {
                continue;
            }
            declare_on_each_operation(item, "400", &response);
        }
    }
}

/// `POST /api/stores` answers the new store's `id`: OpenAPI links say which
/// operations take it as their `{id}`, so clients and stateful testers
/// (schemathesis, `make test-api-schema`) can chain create → get, events,
/// credentials, delete.
struct StoreLinks;

impl Modify for StoreLinks {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::RefOr;
        use utoipa::openapi::link::LinkBuilder;
        let Some(RefOr::T(created)) = openapi
            .paths
            .paths
            .get_mut("/api/stores")
            .and_then(|item| item.post.as_mut())
            .and_then(|create| create.responses.responses.get_mut("202"))
        else {
            return;
        };
        for (name, operation_id, what) in [
            ("GetStore", "get_one", "the store just created"),
            ("StoreEvents", "events", "its provisioning events"),
            ("StoreCredentials", "credentials", "its admin credentials"),
            ("DeleteStore", "delete_store", "delete it"),
        ] {
            let link = LinkBuilder::new()
                .operation_id(operation_id)
                .parameter("id", "$response.body#/id")
                .description(what)
                .build();
            created.links.insert(name.into(), link.into());
        }
    }
}

/// Store and user names: the server's exact rule as a `pattern`
/// ([`storefleet_shared::auth::name_pattern`]: trimmed, 1 to 64 characters,
/// no control, invisible or separator characters). It replaces the
/// `minLength`/`maxLength` of the raw string, which said less (a control
/// character passed them) and more (64 padded with spaces is refused by
/// them, taken by the server).
struct NamePattern;

impl Modify for NamePattern {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{RefOr, Schema};
        let pattern = storefleet_shared::auth::name_pattern();
        let Some(components) = openapi.components.as_mut() else {
            return;
        };
        for body in ["CreateStore", "CreateUser"] {
            let Some(RefOr::T(Schema::Object(object))) = components.schemas.get_mut(body) else {
                panic!("the document has no schema {body}: NamePattern must follow it");
            };
            let Some(RefOr::T(Schema::Object(name))) = object.properties.get_mut("name") else {
                panic!("{body} has no string property name");
            };
            name.pattern = Some(pattern.clone());
            name.min_length = None;
            name.max_length = None;
        }
    }
}

/// The document as served and checked in (pretty JSON, trailing newline).
pub fn document() -> String {
    let json = ApiDoc::openapi()
        .to_pretty_json()
        .expect("the OpenAPI document serializes");
    // utoipa 5.5 writes a Link's fields in snake case; OpenAPI (and every
    // client that follows links) reads `operationId`. Only links have the key.
    let mut json = json.replace("\"operation_id\": ", "\"operationId\": ");
    json.push('\n');
    json
}

/// `GET /api/openapi.json` (no token needed: it describes, it reveals nothing).
pub async fn serve() -> impl axum::response::IntoResponse {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        document(),
    )
}

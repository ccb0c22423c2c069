//! CloudEvent handlers of this function. Owned by the WIRING (event chain)
//! engineer; the core API only mounts this router.

use axum::Router;
use storefleet_shared::context::Context;

pub fn router(_ctx: Context) -> Router {
    Router::new()
}

//! Storefleet's vocabulary: one type for each concept the functions, the
//! database and the events share, so a status, an engine, an activity kind or
//! an event type is written once (here) and matched exhaustively everywhere
//! else.
//!
//! - [`StoreId`]: 8 characters of `[a-z0-9]`, validated once, and the names
//!   built from it (`store-<id>`: namespace and helm release).
//! - [`Engine`]: the store types (the `type` column, the `storefleet.io/engine` label).
//! - [`Status`]: the lifecycle of a store (the `status` column).
//! - [`ActivityKind`]: the kinds of a store's activity log (`store_events.kind`).
//! - [`EventType`]: the CloudEvent types the functions send and receive.
//! - [`Step`]: the chain's steps as data ([`step::STEPS`]): the event that
//!   starts each, the function that runs it, the status it expects, what
//!   marks it done, whether the sweep re-drives it.
//!
//! "Activity" is the store's log of what happened to it (`GET
//! /api/stores/{id}/events`, table `store_events`, both kept by those names
//! for the API and the schema); "event" is a CloudEvent only.
//!
//! A crate of its own (re-exported as `storefleet_shared::domain`) because
//! `storefleet-kube` needs the store id and the engine too, and
//! `storefleet-shared` depends on it.

mod activity;
mod engine;
mod event_type;
pub mod labels;
mod status;
pub mod step;
mod store_id;
mod text;

pub use activity::ActivityKind;
pub use engine::{Engine, UnknownEngine};
pub use event_type::EventType;
pub use status::Status;
pub use step::Step;
pub use store_id::{InvalidStoreId, StoreId};
pub use text::UnknownValue;

//! Services under `/api/v2/{service}`. Definitions reach every core in the config snapshot;
//! [`registry`] turns them into per-core instances; [`db`] is the database service API.

pub mod any_db;
pub mod db;
pub mod registry;

pub use any_db::AnyDb;
pub use registry::{AnyService, Registry, ServiceDef};

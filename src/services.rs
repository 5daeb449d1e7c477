//! Services under `/api/v2/{service}`. Definitions reach every core in the config snapshot;
//! [`registry`] turns them into per-core instances; [`db`] is the database service API.

pub mod db;
pub mod registry;

pub use registry::{AnyService, Registry, ServiceDef};

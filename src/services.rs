//! Services under `/api/v2/{service}`: each kind in its own module.

pub mod db;

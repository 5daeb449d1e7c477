//! Database services: DreamFactory's `_table` and `_schema` API over the connectors.

pub mod filter;

//! Adapters: the ports over real services (`<Tech><Port>`). Item ↔ domain mapping lives here
//! only.

pub mod aws;
pub mod dynamodb;
pub mod dynamodb_analytics;
pub mod dynamodb_leads;
pub mod graph;
pub mod s3;

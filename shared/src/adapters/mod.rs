//! Adapters: the ports over real services (`<Tech><Port>`). Item ↔ domain mapping lives here
//! only.

pub mod aws;
pub mod dynamodb;
#[cfg(feature = "graph")]
pub mod graph;
#[cfg(feature = "graph")]
pub mod graph_capi;
pub mod s3;
pub mod s3_imports;
pub mod s3_reports;
#[cfg(feature = "sns")]
pub mod sns;

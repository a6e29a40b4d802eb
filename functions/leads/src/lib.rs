//! The managers' leads API (API Gateway HTTP API → this function): a router
//! (`handler`) and one module per resource.

mod answers;
mod check;
mod consent;
mod conversions;
pub mod handler;
mod imports;
mod leads;

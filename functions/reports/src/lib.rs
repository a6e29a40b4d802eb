//! The reports API: `POST /v1/reports`, `GET /v1/reports/{id}`, `GET /v1/reports`: a router
//! (`handler`) and one module per resource.

mod answers;
mod create;
pub mod handler;
mod links;
mod read;
#[cfg(test)]
mod router_tests;

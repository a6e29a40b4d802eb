//! The reports API: `POST /v1/reports`, `GET /v1/reports/{id}`, `GET /v1/reports`.

pub mod handler;

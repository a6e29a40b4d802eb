//! The managers' leads API (API Gateway HTTP API → this function).

pub mod handler;
mod imports;

//! The `replay` function: re-ingests the webhook bodies kept under `quarantine/` with the
//! webhook's own ingest code (`shared::replay`), on an operator's invocation. A function of
//! its own so that only it (and the webhook) holds the webhook's write permissions.

pub mod handler;

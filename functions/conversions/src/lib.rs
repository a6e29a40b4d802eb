//! The `conversions` function: forwards the conversions managers record to Meta's
//! Conversions API, off the request path (the table stream), with retries and a
//! dead-letter queue.

pub mod handler;

//! The webhook function's logic, as a library so tests and the local stack drive the same
//! handler that ships.

mod answers;
pub mod handler;
mod handshake;
mod live;
mod secrets;

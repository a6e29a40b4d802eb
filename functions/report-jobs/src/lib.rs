//! Report jobs: scheduled reports and reports the API handed over: the event router
//! (`handler`) and one module per event.

pub mod handler;
mod schedule;
mod stream;

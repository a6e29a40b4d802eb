//! The DynamoDB adapters, one module per store, over one table whose keys are built and
//! parsed in `crate::keys` only. Key design and access patterns: `docs/DATA_MODEL.md`.
//!
//! - `events` (+ `requests`): the webhook's `EventStore`; `assignment`: the owner
//!   assignment's `AssignmentStore` (round-robin ticket, owner and history in one transaction);
//! - `leads`: the managers' leads, consent, conversions, imports and the aggregator's
//!   markers;
//! - `identity`: the `IdentityStore` (person links and merges);
//! - `reports`: the report sources and records.

pub mod analytics;
mod assignment;
pub(crate) mod attrs;
pub(crate) mod consent;
mod events;
pub mod facts;
mod history;
pub mod identity;
pub mod leads;
pub mod reports;
mod requests;
pub mod rollups;

pub use assignment::DynamoDbAssignmentStore;
pub use attrs::LEAD_WABAS;
pub use events::DynamoDbEventStore;
pub use requests::{DEFAULT_INITIAL_STAGE, MAX_INLINE_RAW, Request, request, status_request};

use crate::domain::ingest::Write;
use crate::ports::{ApplyReport, EventStore, RawStore, RejectedWrite, StoreError};
use attrs::Attrs;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::SdkError;
use futures_util::stream::{self, StreamExt};
use std::collections::HashMap;

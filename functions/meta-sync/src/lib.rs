//! meta-sync: EventBridge Scheduler → Graph API pulls → DynamoDB rows + raw S3 snapshots.

pub mod handler;

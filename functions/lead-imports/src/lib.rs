//! The `lead-imports` function: runs the asynchronous CSV imports whose files managers
//! uploaded to `imports/<job id>.csv` (S3 → EventBridge "Object Created" → this function).

pub mod handler;

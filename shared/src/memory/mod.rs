pub mod events;
pub mod raw;
pub mod secrets;

pub mod harness;
pub mod traffic;

//! One module per command group; shared flag parsing lives in `args`.

pub mod args;
pub mod capacity;
pub mod keys;
pub mod sign;
pub mod verify;

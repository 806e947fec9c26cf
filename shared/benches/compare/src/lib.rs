//! Empty: this package exists only for its benchmark (`benches/sign.rs`).

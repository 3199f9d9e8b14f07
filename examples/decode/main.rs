//! Packet inspector (placeholder).
fn main() {}

//! UDP tracker protocol. Placeholder until implemented.

//! CTCS. Placeholder until implemented.

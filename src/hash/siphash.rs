//! SipHash-2-4. Placeholder until implemented.

//! SHA-1 (FIPS 180-4). Placeholder until implemented.

//! Records the rustflags the comparison was built with, so that it can say whether its
//! loops were aligned (see `.cargo/config.toml` and README.md).

fn main() {
    println!("cargo:rerun-if-env-changed=CARGO_ENCODED_RUSTFLAGS");
    let flags = std::env::var("CARGO_ENCODED_RUSTFLAGS").unwrap_or_default();
    println!(
        "cargo:rustc-env=COMPARE_RUSTFLAGS={}",
        flags.replace('\u{1f}', " ")
    );
}

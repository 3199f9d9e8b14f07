//! A CTCS server on tokio that prints every event and polls each client for its status
//! and peers once it says hello.
//!
//! `cargo run --example ctcs_server -- 127.0.0.1:2780`, then `ctorrent -S 127.0.0.1:2780 X.torrent`.

use std::sync::{Arc, Mutex};

use tokio::net::TcpListener;
use tokio::sync::watch;
use trackwire::ctcs::{ServerConfig, ServerEvent};
use trackwire_tokio::ctcs_server::{serve, Command, Handler};

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let bind = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:2780".into());
    let listener = TcpListener::bind(&bind).await?;
    eprintln!("listening on {}", listener.local_addr()?);
    let handler: Handler = Arc::new(Mutex::new(|conn: u64, e: &ServerEvent<'_>| {
        println!("{conn}: {e:?}");
        match e {
            ServerEvent::Hello(_) => vec![Command::Status, Command::Peers],
            _ => vec![],
        }
    }));
    let (_stop, shutdown) = watch::channel(false);
    serve(listener, ServerConfig::new(), handler, shutdown).await
}

//! The tokio CTCS server on loopback, with a simulated ctorrent (`ctcs::ClientSession`)
//! driven over a tokio TCP stream: hello, status, peers, a limit change, quit.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use trackwire::ctcs::{
    BlockKind, ClientEvent, ClientSession, ClientSessionConfig, CtBw, CtStatus, ServerConfig,
    ServerEvent,
};
use trackwire::Instant;
use trackwire_tokio::ctcs_server::{serve, Command, Handler};

#[tokio::test]
async fn a_session_through_the_tokio_ctcs_server() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let log = seen.clone();
    let handler: Handler = Arc::new(Mutex::new(move |conn: u64, e: &ServerEvent<'_>| {
        let mut log = log.lock().unwrap();
        match e {
            ServerEvent::Hello(h) => {
                log.push(format!("{conn} hello {}", h.filename));
                vec![Command::Status]
            }
            ServerEvent::Status { status, .. } => {
                log.push(format!(
                    "{conn} status {}/{}",
                    status.n_have, status.n_total
                ));
                if log.iter().filter(|l| l.contains("status")).count() == 2 {
                    vec![Command::Peers]
                } else {
                    vec![]
                }
            }
            ServerEvent::BlockEnd {
                block: BlockKind::Peers,
                items,
            } => {
                log.push(format!("{conn} peers {items}"));
                vec![Command::DownloadLimit(20480)]
            }
            ServerEvent::Bandwidth(bw) => {
                log.push(format!("{conn} bandwidth {}", bw.dl_limit));
                vec![Command::Quit]
            }
            ServerEvent::Closed => {
                log.push(format!("{conn} closed"));
                vec![]
            }
            _ => vec![],
        }
    }));
    let (stop_tx, stop) = watch::channel(false);
    tokio::spawn(serve(listener, ServerConfig::new(), handler, stop));

    // The simulated ctorrent.
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let config = ClientSessionConfig::new(*b"-CD0303-abcdefghijkl", 1_795_312_213, b"t.torrent");
    let mut client = ClientSession::new(config).unwrap();
    let t = Instant::from_secs(1);
    client.handle_connected(t);
    let mut status = CtStatus {
        n_have: 4,
        n_total: 4,
        n_avail: 4,
        ..CtStatus::default()
    };
    let mut out = vec![0u8; ClientSession::MAX_TRANSMIT_LEN];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    'run: while tokio::time::Instant::now() < deadline {
        loop {
            while let Some(n) = client.poll_transmit(&mut out).unwrap() {
                stream.write_all(&out[..n]).await.unwrap();
            }
            let Some(e) = client.poll_event() else { break };
            match e {
                ClientEvent::Connected | ClientEvent::StatusRequested => {
                    client.send_status(&status).unwrap()
                }
                ClientEvent::PeersRequested => client.send_peers([]).unwrap(),
                ClientEvent::DownloadLimit { limit, .. } => {
                    status.dl_limit = limit;
                    client
                        .send_bw(&CtBw {
                            dl_rate: 0,
                            ul_rate: 0,
                            dl_limit: limit,
                            ul_limit: 0,
                        })
                        .unwrap();
                }
                ClientEvent::Quit => {
                    client.send_status(&status).unwrap();
                    while let Some(n) = client.poll_transmit(&mut out).unwrap() {
                        stream.write_all(&out[..n]).await.unwrap();
                    }
                    break 'run;
                }
                _ => {}
            }
        }
        // Every event is polled: read straight into the session, no buffer of our own.
        let n = tokio::time::timeout(Duration::from_secs(2), stream.read(client.input_buf()))
            .await
            .unwrap()
            .unwrap();
        assert!(n > 0, "the server closed early");
        client.commit_input(n).unwrap();
    }
    drop(stream);
    // Wait for the server to see the close.
    for _ in 0..100 {
        if seen.lock().unwrap().iter().any(|l| l.ends_with("closed")) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop_tx.send(true).unwrap();
    let log = seen.lock().unwrap().clone();
    assert_eq!(
        log,
        [
            "1 hello t.torrent",
            "1 status 4/4",
            "1 status 4/4",
            "1 peers 0",
            "1 bandwidth 20480",
            "1 status 4/4",
            "1 closed"
        ],
    );
}

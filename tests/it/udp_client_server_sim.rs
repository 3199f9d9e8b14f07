//! `udp::Client` against `udp::Server` in memory, in virtual time: nothing sleeps, time
//! jumps to the next deadline. Covers the happy path, server cookie expiry (the error
//! reply makes the client drop its id and reconnect), loss, duplication and reordering.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Duration;

use trackwire::udp::{
    AnnounceParams, Client, ClientConfig, ClientEvent, InfoHash, PeerId, Received, RetryPolicy,
    ScrapeRow, Server, ServerAction, ServerConfig, MSG_BAD_CONNECTION_ID, PROTOCOL_ID,
};
use trackwire::Instant;

const CLIENT: &str = "192.0.2.10:40000";
const TRACKER: &str = "192.0.2.1:6969";

#[derive(Debug, Clone, PartialEq)]
enum End {
    Announced(usize),
    Scraped(Vec<u32>),
    Failed(Vec<u8>),
    TimedOut,
}

/// A network of one client and one server, with a scripted fault per datagram number.
struct Net {
    now: Instant,
    client: Client<4>,
    server: Server,
    to_server: VecDeque<Vec<u8>>,
    to_client: VecDeque<Vec<u8>>,
    sent: usize,
    connects: usize,
    ends: Vec<End>,
}

impl Net {
    fn new(client_id_lifetime: Duration, server_age: Duration) -> Net {
        let sc = ServerConfig::new().with_max_connection_age(server_age);
        let cfg = ClientConfig::new(TRACKER.parse().unwrap())
            .with_connection_id_lifetime(client_id_lifetime)
            .with_retry(RetryPolicy::BEP15);
        Net {
            now: Instant::ZERO,
            client: Client::new_sized(cfg, 42).unwrap(),
            server: Server::new(sc, [3; 16]),
            to_server: VecDeque::new(),
            to_client: VecDeque::new(),
            sent: 0,
            connects: 0,
            ends: Vec::new(),
        }
    }

    /// Moves datagrams until both queues are empty and nothing is due; `fault(n)` says
    /// what happens to the n-th datagram the client sends: 0 deliver, 1 drop, 2 deliver
    /// twice, 3 deliver after the next one.
    fn step(&mut self, fault: &mut dyn FnMut(usize) -> u8) {
        let mut buf = [0u8; Client::<4>::MAX_TRANSMIT_LEN];
        while let Some(t) = self.client.poll_transmit(self.now, &mut buf).unwrap() {
            let d = buf[..t.len].to_vec();
            if d.len() == 16 && d[..8] == PROTOCOL_ID.to_be_bytes() {
                self.connects += 1;
            }
            self.sent += 1;
            match fault(self.sent) {
                1 => {}
                2 => {
                    self.to_server.push_back(d.clone());
                    self.to_server.push_back(d);
                }
                3 => self.to_server.push_front(d),
                _ => self.to_server.push_back(d),
            }
        }
        while let Some(d) = self.to_server.pop_back() {
            let mut reply = [0u8; 1500];
            let from: SocketAddr = CLIENT.parse().unwrap();
            let len = match self.server.handle_datagram(self.now, from, &d, &mut reply) {
                ServerAction::Connected { len } | ServerAction::Rejected { len, .. } => len,
                ServerAction::Announce(a) => {
                    let peers: Vec<SocketAddr> = (1..=3)
                        .map(|i| SocketAddr::from(([10, 0, 0, i], 6881)))
                        .collect();
                    a.respond(900, 2, 1, peers, &mut reply).unwrap()
                }
                ServerAction::Scrape(s) => s
                    .respond(
                        |h| ScrapeRow {
                            complete: u32::from(h.0[0]),
                            downloaded: 0,
                            incomplete: 0,
                        },
                        &mut reply,
                    )
                    .unwrap(),
                _ => 0,
            };
            if len > 0 {
                self.to_client.push_back(reply[..len].to_vec());
            }
        }
        while let Some(d) = self.to_client.pop_front() {
            match self
                .client
                .handle_datagram(self.now, TRACKER.parse().unwrap(), &d)
            {
                Ok(Received::Announced { response, .. }) => {
                    self.ends.push(End::Announced(response.peers.len()))
                }
                Ok(Received::Scraped { response, .. }) => self.ends.push(End::Scraped(
                    response.iter().map(|(_, r)| r.complete).collect(),
                )),
                Ok(Received::Failed { error, .. }) => {
                    self.ends.push(End::Failed(error.message.to_vec()))
                }
                _ => {}
            }
        }
        while let Some(e) = self.client.poll_event() {
            if let ClientEvent::TimedOut { .. } = e {
                self.ends.push(End::TimedOut);
            }
        }
    }

    /// Runs until `n` exchanges ended, jumping time to each deadline.
    fn run(&mut self, n: usize, fault: &mut dyn FnMut(usize) -> u8) {
        for _ in 0..1000 {
            self.step(fault);
            if self.ends.len() >= n {
                return;
            }
            let next = self
                .client
                .poll_timeout()
                .expect("an exchange is running, so a deadline is armed");
            self.now = next.max(self.now);
            self.client.handle_timeout(self.now);
        }
        panic!("did not finish: {:?}", self.ends);
    }
}

fn params(i: u8) -> AnnounceParams {
    AnnounceParams::new(InfoHash([i; 20]), PeerId([7; 20]), 6881)
}

#[test]
fn announce_and_scrape_share_one_connect_sim() {
    let mut net = Net::new(Duration::from_secs(60), Duration::from_secs(120));
    net.client.announce(net.now, params(1)).unwrap();
    net.client
        .scrape(net.now, &[InfoHash([4; 20]), InfoHash([5; 20])])
        .unwrap();
    net.run(2, &mut |_| 0);
    assert_eq!(net.connects, 1);
    assert!(net.ends.contains(&End::Announced(3)));
    assert!(net.ends.contains(&End::Scraped(vec![4, 5])));
}

#[test]
fn server_expiry_before_client_expiry_reconnects_sim() {
    // The client trusts its id for 10 minutes, the server for 2: the announce at 5
    // minutes gets an error reply, which must make the client drop the id.
    let mut net = Net::new(Duration::from_secs(600), Duration::from_secs(120));
    net.client.announce(net.now, params(1)).unwrap();
    net.run(1, &mut |_| 0);
    net.now = Instant::from_secs(300);
    net.client.announce(net.now, params(1)).unwrap();
    net.run(2, &mut |_| 0);
    assert_eq!(net.ends[1], End::Failed(MSG_BAD_CONNECTION_ID.to_vec()));
    assert!(net.client.connection_id().is_none());
    net.client.announce(net.now, params(1)).unwrap();
    net.run(3, &mut |_| 0);
    assert_eq!(net.ends[2], End::Announced(3));
    assert_eq!(net.connects, 2);
}

#[test]
fn loss_duplication_and_reordering_sim() {
    // Drop the first connect and the first announce, duplicate the next datagram, swap
    // two: every exchange still ends once, with its own answer.
    let mut net = Net::new(Duration::from_secs(60), Duration::from_secs(120));
    for i in 0..3 {
        net.client.announce(net.now, params(i)).unwrap();
    }
    let mut script = |n: usize| match n {
        1 => 1,
        2 => 1,
        3 => 2,
        4 => 3,
        _ => 0,
    };
    net.run(3, &mut script);
    assert_eq!(net.ends, vec![End::Announced(3); 3]);
    // BEP 15 schedule: the retransmission after the lost connect went out at 15 s.
    assert!(net.now >= Instant::from_secs(15));
}

#[test]
fn a_silent_server_times_out_on_the_bep15_schedule_sim() {
    let mut net = Net::new(Duration::from_secs(60), Duration::from_secs(120));
    net.client.announce(net.now, params(1)).unwrap();
    net.run(1, &mut |_| 1);
    assert_eq!(net.ends, vec![End::TimedOut]);
    assert_eq!(net.now, Instant::from_secs(7665));
    assert_eq!(net.sent, 9);
}

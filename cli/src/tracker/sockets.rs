//! Binding: every address of every `--bind`, one socket per worker, all sharing the
//! address through `SO_REUSEPORT` so that the kernel spreads datagrams over the workers
//! (by a hash of the source, so one client keeps reaching one worker).
//!
//! Each socket is bound to one address, so replies leave from the address the request
//! came to; binding a wildcard address (`0.0.0.0`, `[::]`) is the operator's choice, with
//! the kernel then picking the source address by route.

use std::net::{SocketAddr, ToSocketAddrs, UdpSocket};

use socket2::{Domain, Protocol, Socket, Type};

use crate::failure::Failure;

use super::worker::TICK;

/// Every address `bind` names (`HOST:PORT`, `[v6]:PORT`), without repeats.
fn resolve(bind: &str) -> Result<Vec<SocketAddr>, Failure> {
    let mut addrs: Vec<SocketAddr> = bind
        .to_socket_addrs()
        .map_err(|e| Failure::Usage(format!("--bind {bind}: {e}")))?
        .collect();
    addrs.dedup();
    if addrs.is_empty() {
        return Err(Failure::Usage(format!("--bind {bind}: names no address")));
    }
    Ok(addrs)
}

fn socket(addr: SocketAddr, recv_buffer: usize) -> std::io::Result<UdpSocket> {
    let s = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    // IPV6_V6ONLY is left at the system's default (Linux: off), as std's bind leaves
    // it: `[::]:P` then serves IPv4 too, as IPv4-mapped addresses, which the library
    // reads as IPv4.
    s.set_reuse_port(true)?;
    s.set_recv_buffer_size(recv_buffer)?;
    s.bind(&addr.into())?;
    let s: UdpSocket = s.into();
    // Workers wake up this often to see the stop flag and flush their log.
    s.set_read_timeout(Some(TICK))?;
    Ok(s)
}

/// `workers` sockets on every address of every bind, in order; prints `listening on
/// ADDR` once for each address.
pub(crate) fn bind_all(
    binds: &[String],
    workers: usize,
    recv_buffer: usize,
) -> Result<Vec<UdpSocket>, Failure> {
    let mut out = Vec::new();
    for bind in binds {
        for addr in resolve(bind)? {
            // Port 0 asks the kernel for a port: the first socket gets it, the others
            // join that port.
            let mut at = addr;
            let mut got = 0;
            for _ in 0..workers {
                let s = socket(at, recv_buffer).map_err(|e| {
                    Failure::Failed(format!("cannot bind {addr} (from --bind {bind}): {e}"))
                })?;
                if got == 0 {
                    at = s.local_addr().unwrap_or(addr);
                    // What the kernel granted (Linux reports twice the request, capped
                    // by net.core.rmem_max).
                    got = socket2::SockRef::from(&s).recv_buffer_size().unwrap_or(0);
                }
                out.push(s);
            }
            // The first line alone, as before: scripts wait for it and read the address.
            super::log(&format!("listening on {at}"));
            super::log(&format!(
                "{at}: {workers} workers, receive buffer {got} bytes each"
            ));
        }
    }
    Ok(out)
}

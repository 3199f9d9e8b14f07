//! The library's integration tests, in one test binary so that the suite links once:
//! codecs against real bytes and property tests, virtual-time simulations of every
//! machine, and the zero-allocation checks (the counting allocator counts per thread, so
//! tests running beside them do not disturb their counts).

#[path = "../common/mod.rs"]
mod common;

mod ctcs_alloc;
mod ctcs_allocator;
mod ctcs_client_session;
mod ctcs_messages;
mod ctcs_proptest;
mod ctcs_server_session;
mod ctcs_vectors;
mod machines_alloc;
mod udp_alloc;
mod udp_announcer_alloc;
mod udp_announcer_sim;
mod udp_client_server_sim;
mod udp_client_sim;
mod udp_codec;
mod udp_heapless;
mod udp_proptest;
mod udp_server;
mod udp_server_hooks;
mod udp_url;
mod udp_vectors;

// Every allocation of this binary goes through the counter; `count` reads this thread's.
#[global_allocator]
static ALLOCATOR: trackwire_alloc_count::Counting = trackwire_alloc_count::Counting;

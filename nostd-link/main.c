/* Links the no_std static library into a C program and runs one in-memory announce. */
#include <stdint.h>
#include <stdio.h>

int32_t trackwire_udp_round_trip(uint64_t seed);
int32_t trackwire_ctcs_server_session(void);

int main(void) {
    int32_t peers = trackwire_udp_round_trip(0x0123456789abcdefULL);
    int32_t lines = trackwire_ctcs_server_session();
    printf("trackwire no_std: udp round trip gave %d peer(s); ctcs server session wrote %d line(s)\n", peers, lines);
    return peers == 1 && lines == 2 ? 0 : 1;
}

/* Links the no_std static library into a C program and runs one in-memory announce. */
#include <stdint.h>
#include <stdio.h>

int32_t trackwire_udp_round_trip(uint64_t seed);

int main(void) {
    int32_t peers = trackwire_udp_round_trip(0x0123456789abcdefULL);
    printf("trackwire no_std round trip: %d peer(s)\n", peers);
    return peers == 1 ? 0 : 1;
}

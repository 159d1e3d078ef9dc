// Package livetest tests medscan's live capture against real software on a real
// (virtual) network: two network namespaces joined by a veth pair, nginx, mosquitto and
// dcmtk's storescp serving in one, curl, mosquitto_pub and echoscu calling from the
// other, with `medscan scan --iface` listening on the server's end of the pair while
// tcpdump records the same interface into a file.
//
// It holds no library code. Its test requires that the live scan and a `medscan scan
// --pcap` of tcpdump's file raise the same findings (rule, host, port), that the live
// scan's --write-pcap files hold every frame tcpdump saw, that the live scan stopped
// cleanly on SIGINT with its counters stored, and that the secrets planted in the
// traffic are written out nowhere.
//
// Invariants: the test needs root (namespaces, packet sockets) and skips without it, or
// without a tool, unless MEDSCAN_REQUIRE_REALSOFT=1, when it fails instead. Namespace
// and interface names are unique per run and deleted in t.Cleanup; traffic stays inside
// the two namespaces (addresses in 10.204.0.0/16, no route out); every process runs in
// its own process group, bounded in time and killed when the test ends.
package livetest

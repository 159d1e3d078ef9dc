// Package bpf compiles capture filter expressions, a documented subset of tcpdump's
// pcap-filter syntax, to classic BPF programs that the kernel runs on every frame of a
// live capture — without libpcap, so the default build needs no cgo.
//
// Accepted expressions (the semantics are tcpdump's, checked against tcpdump -r on
// real captures by the tests):
//
//	tcp  udp  icmp  icmp6  ip  ip6  arp      protocol of the frame
//	vlan [ID]                                 an 802.1Q/802.1ad tag (with that VLAN ID)
//	[src|dst] host ADDR                       IPv4 or IPv6 address; for IPv4 also the
//	                                          sender or target of ARP and RARP
//	[src|dst] net CIDR                        address within a prefix (ADDR/LEN)
//	[src|dst] ADDR  or  [src|dst] CIDR        "host" or "net" implied
//	[tcp|udp] [src|dst] port N                a TCP, UDP or SCTP port (tcp/udp: only that)
//	[tcp|udp] [src|dst] portrange A-B         a port within A..B inclusive
//	ip proto N  /  ip6 proto N                an IP protocol number (0-255)
//	E and E, E && E, E or E, E || E, not E, !E, ( E )
//
// "not" binds tighter than "and", which binds tighter than "or"; keywords are case
// sensitive, as in tcpdump. Host names, Ethernet addresses, byte-offset expressions
// (ip[9] = 6), and tcpdump's omitted qualifiers ("port 80 or 443") are not accepted:
// the error names the position (1-based, in bytes) and the token.
//
// Limits, as in tcpdump: port primitives read the IPv4 header length and skip non-first
// fragments (which carry no ports); IPv6 ports are read right after the fixed header,
// so a packet with extension headers before TCP or UDP does not match; tcp, udp and the
// other protocol primitives also look behind one IPv6 fragment header. "vlan" tests the
// Ethernet type field and, like tcpdump, moves every primitive after it in the
// expression 4 bytes further into the frame. On Linux the kernel removes the outer VLAN
// tag of received frames before the filter runs (VLAN offload), so on a live interface
// frames look untagged and "vlan" only matches a second, inner tag.
//
// Link types: Ethernet, Linux cooked (v1 and v2) and raw IP (IPv4 or IPv6 by the version
// nibble); on raw IP, arp never matches and vlan is refused, as tcpdump refuses it. Programs are at most MaxInstructions
// long, the kernel's limit, and every jump goes forward, so they always end.
package bpf

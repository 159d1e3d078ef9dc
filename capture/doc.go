// Package capture is medscan's passive engine: it turns capture bytes into reassembled
// TCP streams and hands them to the protocol dissectors of package capture/dissect.
//
// It owns, in order along a packet's path:
//
//   - sources: classic pcap (either byte order, micro- and nanosecond magic, the modified
//     format), pcapng (several sections and interfaces, per-interface link type, if_tsresol
//     in both forms, if_tsoffset; EPB, SPB and the obsolete packet block; other
//     blocks skipped), either one gzip-compressed (multistream), from a file or stdin;
//   - link layers: Ethernet with 802.1Q/802.1ad/QinQ tags, BSD NULL and LOOP, raw IP,
//     raw IPv4 and IPv6, Linux cooked v1 and v2; within Ethernet and cooked frames (whose
//     protocol field is an EtherType), VLAN tags, PPPoE sessions carrying IPv4 or IPv6
//     (discovery and PPP control frames counted as non-IP), and MPLS label stacks of up to
//     eight labels (unicast and multicast) over IPv4 or IPv6, in any nesting of these;
//   - IPv4 and IPv6 (extension headers skipped), with bounded fragment reassembly;
//   - tunnels (tunnel.go), opened in transport and decoded again from the link or IP
//     layer they carry: GRE (checksum, key, sequence; IPv4, IPv6, MPLS, Ethernet 0x6558),
//     ERSPAN types I, II and III, VXLAN (UDP 4789), Geneve (UDP 6081), GTP-U G-PDUs (UDP
//     2152), IPv4 and IPv6 in IPv4 and IPv6 (protocols 4 and 41), nested up to
//     maxTunnelDepth levels; each level's outer addresses and identifier make the packet's
//     sensor path, kept per inner host and handed to the Set at handOver, while the outer
//     addresses are recorded as tunnel endpoints. An outer datagram is defragmented before
//     it is opened, an inner one at its own level;
//   - a flow table keyed canonically, so both directions find one entry (FlowHash gives
//     the same symmetric key for sharding flows onto workers, each with its own Engine);
//     each flow counts its segments and payload bytes, handed to the Set as an
//     observe.Volume (a data flow's volume) when the flow ends;
//   - TCP reassembly per direction: retransmissions and overlaps trimmed, out-of-order
//     segments held until the hole fills, holes skipped with Stream.Gap when a buffer
//     cap is reached or the flow ends;
//   - the choice of what to reassemble, made from content, never from ports: the first
//     bytes of each direction go to every Dissector.Detect in configured order, and the
//     first Yes claims the flow; a stream that upgrades in place (dissect.Handoff, e.g.
//     STARTTLS) hands the flow back to detection, at most twice per flow;
//   - hosts: every address seen, with the source MAC of the frames it sent;
//   - ARP (arp.go): who claims which IPv4 address (observe.ARPClaim), with requests,
//     replies, gratuitous announcements and takeovers counted in capture order; the
//     current MAC of each address survives checkpoints so a takeover counts once; both
//     tables are capped, and what they leave out counted;
//   - UDP (udp.go): each datagram offered to the datagram dissectors (dissect.DatagramHandler)
//     in order, the first that claims it taking it; handlers keep bounded state across
//     datagrams (a TFTP transfer moves to new ports), and expectations (expect.go) let a
//     control stream announce a TCP connection to come (FTP data), used once and expired;
//   - sharding (shard.go): a Pool runs one Engine per worker, hashing each packet's IP
//     address pair with FlowHash (the innermost pair of a tunnelled packet, the later
//     fragments of a fragmented tunnel packet routed after its first; DHCP and non-IP
//     frames to worker 0), relaying the capture
//     clock so flows expire as in one Engine; Checkpoint (checkpoint.go) hands hosts,
//     counters and what datagram handlers hold over mid-run without ending flows, and
//     TakeSet empties the Set in place.
//
// Frames are decoded by hand rather than with gopacket: it keeps the per-packet path free
// of allocations and interface calls, covers Linux cooked v2 (which gopacket v1.1.19
// lacks), and lets the readers report byte offsets.
//
// Invariants:
//
//   - Bounded memory. Flows expire on the capture clock (DefaultFlowIdleTimeout idle, two
//     minutes after FIN or RST) and their number is capped (the least recently active is
//     evicted); out-of-order bytes are capped per direction and in total; detection logs
//     at most DetectLimit bytes per direction; fragments are capped per datagram, in
//     number and in bytes, and time out. No length read from a capture is allocated
//     before it is checked against a limit.
//   - Counters are never silent. Every packet, segment or byte the engine does not use —
//     truncated, not IP, of an unsupported link type, retransmitted, skipped over a
//     hole, dropped for a cap, unclaimed by any dissector — is counted, and Finish writes
//     the counts into the observe.Set.
//   - Content decides. A flow that no dissector claims from its first bytes is kept only
//     as a tombstone: its later segments cost a map lookup and are never copied. A stream
//     whose Done reports true is ended at once and becomes such a tombstone, unless its
//     Handoff reports true: then its flow goes back to detection with fresh detection
//     state and the roles it had, and the next in-order bytes of each direction (nothing
//     the old stream was given) are offered to every Detect again. Because Data takes
//     whole chunks, a dissector that hands off must become done at the end of a chunk;
//     STARTTLS guarantees it, since the client starts TLS only after the server's reply.
//     The one exception, MySQL's SSL Request, which the client follows at once with its
//     ClientHello, says how many bytes of the chunk follow the upgrade
//     (dissect.HandoffRest), and those go to the new detection.
//     The service keeps the protocol of the flow's first claim (SMTP that upgraded is an
//     SMTP service); the upgrade is counted as starttls_handoffs.
//   - A proxy's stream that hands off (HTTP CONNECT answered 2xx, a SOCKS CONNECT
//     granted) also names the tunnel's target (dissect.Tunnel). The flow then records it
//     (tunnel in flow.go): the streams after the handoff see a Context.Flow whose Server
//     is the target and whose Via is the proxy, or, for a target named by host name,
//     the proxy's endpoint as Server with Flow.Target "name:port" (observe.Flow). The
//     target's service is recorded with the protocol the tunnel speaks (TLS at
//     10.20.0.9:443 via the proxy), the proxy's own with its protocol. A tunnel in a
//     tunnel keeps the proxy on the wire and takes the innermost target. Such handoffs
//     count in starttls_handoffs, and those that named a target in proxy_tunnels.
//   - Every stream's End is called exactly once: when its dissector is done (including
//     a handoff), when the flow closes (both FINs or a RST), expires, is evicted, or at
//     Finish.
//   - Client and server come from the SYN or SYN-ACK when the capture holds them; otherwise
//     the side on the lower port is taken for the server until a dissector's Match says
//     otherwise before its stream starts: FromServer (a banner, a ServerHello) or
//     FromClient (a request line, a ClientHello), so a client on a lower port than its
//     server is not taken for the server.
//   - A SYN on a four-tuple whose flow is closing (or, without ACK, one that already
//     carried bytes) starts a new flow; a SYN-ACK does so once the old flow closed, in case
//     its SYN escaped the capture. A reset whose sequence number is far from the sender's
//     (a late packet of the earlier connection) is counted as tcp_resets_stale and does
//     not end the new one.
//   - A problem with a source stops that source only, with a one-line SourceError naming
//     the file and byte offset; what was read before stays. A corrupt packet in a sound
//     file is counted, not fatal.
//   - The per-packet path does not allocate: packets are views into the read buffer,
//     buffers for held segments and detection logs are pooled.
package capture

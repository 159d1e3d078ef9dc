package capture

// counter indexes the engine's fixed counters; an array indexed by it keeps counting on
// the per-packet path to one increment.
type counter int

// The engine's counters. Every packet, byte or segment the engine does not use is counted
// under one of these, so nothing is dropped silently.
const (
	cNonIP counter = iota
	cARP
	cTruncated
	cUnsupportedLink
	cLinkInvalid
	cMPLSTooDeep
	cUnknownAF
	cIPInvalid
	cIPv4
	cIPv6
	cIPv4ZeroLength
	cIPv6Jumbo
	cSLLOutgoingLoopback
	cFragments
	cIPv4Reassembled
	cIPv6Reassembled
	cFragDropped
	cFragExpired
	cFragOverlaps
	cUDP
	cUDPInvalid
	cUDPTruncated
	cICMP
	cOtherProto
	cTCPSegments
	cTCPInvalid
	cTCPRetransmitted
	cTCPOverlapping
	cTCPOutOfOrder
	cTCPGaps
	cTCPGapBytes
	cBufferCapBytes
	cDetectSkippedBytes
	cFlows
	cFlowsMidstream
	cFlowsExpired
	cFlowsClosed
	cFlowsEvicted
	cFlowsReused
	cTCPStaleResets
	cStreams
	cStreamsDone
	cStreamsUnidentified
	cRolesCorrected
	cDissectorNoStream
	cHandoffs
	cHandoffsCapped
	cTunnels
	cHostsNotRecorded
	cPcapngBadBlocks
	cPcapngUnknownIface
	cTunnelGRE
	cTunnelERSPAN1
	cTunnelERSPAN2
	cTunnelERSPAN3
	cTunnelVXLAN
	cTunnelGeneve
	cTunnelGTPU
	cTunnelIPIP
	cTunnel6in4
	cTunnel4in6
	cTunnel6in6
	cTunnelTooDeep
	cTunnelTruncated
	cTunnelInvalid
	cTunnelNotIP
	cTunnelPathsNotKept
	numCounters
)

// counterNames are the observe.Counter names written by Finish.
var counterNames = [numCounters]string{
	cNonIP:               "non_ip",
	cARP:                 "arp_packets",
	cTruncated:           "truncated_packets",
	cUnsupportedLink:     "unsupported_link_type",
	cLinkInvalid:         "link_header_invalid",
	cMPLSTooDeep:         "mpls_label_stack_too_deep",
	cUnknownAF:           "unknown_address_family",
	cIPInvalid:           "ip_header_invalid",
	cIPv4:                "ipv4_packets",
	cIPv6:                "ipv6_packets",
	cIPv4ZeroLength:      "ipv4_zero_total_length",
	cIPv6Jumbo:           "ipv6_zero_payload_length",
	cSLLOutgoingLoopback: "sll_loopback_outgoing_skipped",
	cFragments:           "ip_fragments",
	cIPv4Reassembled:     "ipv4_fragments_reassembled",
	cIPv6Reassembled:     "ipv6_fragments_reassembled",
	cFragDropped:         "ip_fragments_dropped",
	cFragExpired:         "ip_fragments_expired",
	cFragOverlaps:        "ip_fragment_overlaps",
	cUDP:                 "udp_packets",
	cUDPInvalid:          "udp_header_invalid",
	cUDPTruncated:        "udp_truncated",
	cICMP:                "icmp_packets",
	cOtherProto:          "other_ip_protocol",
	cTCPSegments:         "tcp_segments",
	cTCPInvalid:          "tcp_header_invalid",
	cTCPRetransmitted:    "tcp_retransmitted_segments",
	cTCPOverlapping:      "tcp_overlapping_segments",
	cTCPOutOfOrder:       "tcp_out_of_order_segments",
	cTCPGaps:             "tcp_gaps",
	cTCPGapBytes:         "tcp_gap_bytes",
	cBufferCapBytes:      "bytes_dropped_buffer_cap",
	cDetectSkippedBytes:  "bytes_skipped_detection",
	cFlows:               "flows",
	cFlowsMidstream:      "flows_midstream",
	cFlowsExpired:        "flows_expired",
	cFlowsClosed:         "flows_closed",
	cFlowsEvicted:        "flows_evicted_table_full",
	cFlowsReused:         "flows_port_reused",
	cTCPStaleResets:      "tcp_resets_stale",
	cStreams:             "streams",
	cStreamsDone:         "streams_done_early",
	cStreamsUnidentified: "streams_unidentified",
	cRolesCorrected:      "roles_corrected",
	cDissectorNoStream:   "dissector_declined_stream",
	cHandoffs:            "starttls_handoffs",
	cHandoffsCapped:      "starttls_handoffs_over_cap",
	cTunnels:             "proxy_tunnels",
	cHostsNotRecorded:    "hosts_not_recorded",
	cPcapngBadBlocks:     "pcapng_bad_blocks",
	cPcapngUnknownIface:  "pcapng_unknown_interface",
	cTunnelGRE:           "tunnel_gre_packets",
	cTunnelERSPAN1:       "tunnel_erspan_i_packets",
	cTunnelERSPAN2:       "tunnel_erspan_ii_packets",
	cTunnelERSPAN3:       "tunnel_erspan_iii_packets",
	cTunnelVXLAN:         "tunnel_vxlan_packets",
	cTunnelGeneve:        "tunnel_geneve_packets",
	cTunnelGTPU:          "tunnel_gtpu_packets",
	cTunnelIPIP:          "tunnel_ipip_packets",
	cTunnel6in4:          "tunnel_6in4_packets",
	cTunnel4in6:          "tunnel_4in6_packets",
	cTunnel6in6:          "tunnel_6in6_packets",
	cTunnelTooDeep:       "tunnel_nesting_too_deep",
	cTunnelTruncated:     "tunnel_header_truncated",
	cTunnelInvalid:       "tunnel_header_invalid",
	cTunnelNotIP:         "tunnel_payload_not_ip",
	cTunnelPathsNotKept:  "tunnel_paths_not_recorded",
}

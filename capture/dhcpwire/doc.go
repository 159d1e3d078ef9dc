// Package dhcpwire dissects BOOTP/DHCP (RFC 2131, RFC 2132) over UDP ports 67 and 68:
// which hardware address was given which IP address, and how each client described
// itself (host name, vendor class, parameter request list). That ties an asset's MAC to
// its addresses over time and often names it ("PUMP-ICU-01") and its maker.
//
// A datagram is DHCP only on port 67 or 68 and with the magic cookie at offset 236.
// Option parsing is bounded by the datagram, honours option overload (option 52: the
// file and sname fields carry options) and padding, and never panics. The handler keeps
// what each client said about itself (at most MaxClients clients) so that the server's
// ACK, which rarely repeats the host name, joins the same lease.
//
// Every server reply (offer, ACK, NAK) is also recorded as the server's answer to that
// client (observe.DHCPReply), with the first router (option 3) and DNS server (option 6)
// it handed out: two servers answering one client are on one segment, which is how a
// rogue server is told (rules/intercept, dhcp-rogue).
package dhcpwire

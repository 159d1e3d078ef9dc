// Package tsharkdiff is a differential test of medscan's passive engine against Wireshark.
//
// It holds no library code: its tests run tshark and the medscan binary over the same
// captures and require medscan's JSON report to hold every TLS handshake, certificate,
// HTTP Authorization scheme and MQTT CONNECT that tshark's dissectors read out of them.
// Wireshark is the oracle for what is on the wire; the comparison counts only what
// tshark decoded, because medscan detects protocols by content on any port and may see
// more.
//
// The captures come from MEDSCAN_DIFF_CAPTURES (a colon-separated list of files or
// directories), the shared corpus (../shared/corpus/pcap beside the repository), the
// committed ward capture (fixtures/ward.pcapng), and captures the test makes itself of
// real software (openssl s_server and s_client, curl against net/http) on the loopback
// interface with tcpdump or dumpcap, and of the same software talking through tunnels
// between two network namespaces (tunnel_test.go: the kernel's gre, gretap, erspan,
// ip6erspan, vxlan, geneve, ipip, sit and ip6tnl links, captured on the underlay; a link
// type the kernel lacks skips its case; rewrap_test.go: traffic captured in the clear put
// inside every encapsulation medscan opens). The tunnel cases need root and ip(8), and
// use only the namespaces' own addresses; the namespaces are deleted when they end.
//
// starttls_test.go captures servers that upgrade to TLS in place — MariaDB (mariadb --ssl), PostgreSQL (psql sslmode=require), slapd
// (ldapsearch -ZZ, TLS 1.1 only) and Prosody (an XMPP client written in the test), each
// with a self-signed certificate and each also taking one login in clear — and requires
// medscan to agree with tshark, told each port's protocol with -d so that its own
// STARTTLS code reads the upgrade, to name the service by its protocol, to raise the
// findings the legacy settings call for, and to write no planted password out, in its
// report or its store. These servers come from Debian packages (mariadb-server,
// postgresql, slapd and ldap-utils, prosody); a missing one skips its test, or fails it
// under MEDSCAN_REQUIRE_TSHARK=1.
//
// TestProxiesAgainstTshark (proxy_test.go) sends curl's TLS through squid (HTTP CONNECT),
// dante (SOCKS4) and microsocks (SOCKS5 with a password): tshark is told that those
// ports speak SOCKS and HTTP (-d), and a tunnelled handshake, which medscan reports on
// the tunnel's target with the proxy as via_proxy, is compared on the proxy's port, where
// tshark sees it.
//
// Invariants: the test never downloads anything and never talks to an address other
// than 127.0.0.1, ::1 or those of the network namespaces it makes; every process it
// starts is bounded in time and killed when the test ends. Without tshark it skips, saying so, unless MEDSCAN_REQUIRE_TSHARK=1, which
// also makes a missing capture tool (tcpdump or dumpcap, openssl, curl) a failure
// rather than a skipped case, so that CI cannot pass without running the comparison.
//
// MEDSCAN_DIFF_KEEP names a directory where the captures the test makes are kept, to
// open a disagreement in Wireshark afterwards or to feed them back through
// MEDSCAN_DIFF_CAPTURES.
//
// Run it with:
//
//	MEDSCAN_REQUIRE_TSHARK=1 go test ./internal/tsharkdiff -run TestAgainstTshark -v
package tsharkdiff

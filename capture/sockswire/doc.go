// Package sockswire dissects the opening of SOCKS proxy connections (SOCKS4, SOCKS4a,
// SOCKS5 with RFC 1929 user name and password) for two things a passive observer needs:
// where the tunnel leads, so that what travels in it (TLS, HTTP) is dissected as a
// conversation with that target, and the password a SOCKS5 client sends in clear.
//
// Detection is by content, on the client's first bytes, never by port (1080):
//
//   - SOCKS4 and 4a: VN 4, CD 1 (CONNECT), a non-zero port, an IPv4 address, a user id of
//     printable bytes ended by NUL; an address 0.0.0.x (x non-zero) is 4a, and a host name
//     of at most 255 bytes ended by NUL follows. Nothing may follow the request: a client
//     waits for the proxy's answer before it sends into the tunnel.
//   - SOCKS5: VER 5, NMETHODS from 1 to 9, that many distinct known methods (0 no
//     authentication, 1 GSSAPI, 2 user name and password, 3 to 9 the IANA ones, 0x80 to
//     0xFE private), and nothing after them except the next message of a client that did
//     not wait (a username/password subnegotiation, VER 1, or a request, VER 5).
//
// The server's bytes are never claimed alone: a SOCKS5 method selection is two bytes,
// too short to tell from anything else.
//
// What the stream does:
//
//   - SOCKS5: reads the server's method selection; with user name and password (method
//     2) the client's subnegotiation (VER 1, ULEN, UNAME, PLEN, PASSWD) becomes an
//     observe.Credential (Protocol "socks", Kind "socks5-password", Where "socks5", the
//     user name), the password handed to ctx.Secrets.Hide the moment it is complete and
//     only its masked preview and keyed hash kept; the server's status says nothing a
//     rule needs, and is read only to stay in step. Then the request (VER 5, CMD, RSV 0,
//     ATYP 1 IPv4, 3 domain name, 4 IPv6, the port) and the reply (VER 5, REP, RSV, a
//     bound address of the same forms).
//   - SOCKS4/4a: the reply is eight bytes, VN 0 and CD 90 (granted).
//   - A CONNECT granted (SOCKS5 REP 0, SOCKS4 CD 90): Done with Handoff true, and
//     TunnelTarget the address or host name and port of the request, so that the engine
//     offers the tunnel's bytes to detection again, reporting the target as the server and
//     the proxy as via (observe.Flow). Counted as "socks_tunnels".
//   - Anything else ends the dissection: a refusal ("socks_refused"), BIND or UDP
//     ASSOCIATE ("socks_other_command"), a method the client must negotiate in a way not
//     followed (GSSAPI, private methods) or none acceptable ("socks_no_tunnel"), bytes
//     that break the grammar ("socks_bad_message"), a gap ("socks_gap").
//
// Invariants:
//
//   - Bounded memory: each direction buffers at most one message, never more than
//     maxMessage bytes (the longest the grammar allows: a subnegotiation of two 255-byte
//     fields); the buffers are wiped when a secret passed through them.
//   - The engine hands off at the end of the Data call in which the stream became done.
//     Bytes that follow the grant in that delivery (a server that speaks first through
//     the tunnel, its banner merged into the grant's segment) are handed to detection as
//     the tunnel's first bytes (dissect.HandoffRest); client bytes sent before the grant
//     are counted ("socks_bytes_dropped"), not dissected.
//   - A host name reaches a record only as dissect.TunnelHost reads it (letters, digits,
//     '-', '_', '.'); anything else leaves the tunnel without a target
//     ("socks_bad_target"), its bytes still handed to detection.
package sockswire

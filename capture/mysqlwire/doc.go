// Package mysqlwire dissects the start of a MySQL or MariaDB client/server session: the
// server's initial handshake, the client's SSL Request that upgrades the connection to
// TLS in place, and a login the client makes without TLS.
//
// The protocol (MySQL Client/Server Protocol, "Connection Phase"; MariaDB's is the same
// with extended capabilities) frames every message as a packet: a 3-byte little-endian
// payload length and a 1-byte sequence number. The server speaks first, with a
// HandshakeV10 packet (protocol version 10, a NUL-terminated server version such as
// "5.5.5-10.11.6-MariaDB", a thread id, the first 8 bytes of the nonce, a zero filler and
// the capability flags, CLIENT_SSL among them when the server offers TLS). A client that
// wants TLS answers with an SSL Request: 32 bytes of payload holding its capabilities
// with CLIENT_SSL, its maximum packet size, its character set and a zero filler — and no
// user name — after which both sides speak TLS, the client first. There is no answer to
// wait for: the client sends its ClientHello right after the SSL Request, so the stream
// hands off (dissect.Handoff) when the SSL Request has been read, and tells the engine
// how many bytes of that delivery follow it (dissect.HandoffRest), should the
// ClientHello share a segment with the request.
//
// The greeting's server version and whether it offers TLS are recorded on the service
// (observe.Service Software and StartTLS), which the engine names "mysql".
//
// A client that logs in without TLS sends a HandshakeResponse41 with its user name. The
// authentication response in it is a nonce-salted hash (mysql_native_password,
// caching_sha2_password's scramble), never the password: it is not kept, and the login
// becomes an observe.Credential of Kind "mysql-login" with the user name and no secret.
// When the server switches the client to mysql_clear_password (Auth Switch Request), the
// client's next packet is the password itself: it is hidden at once with
// dissect.Context.Secrets (Kind "mysql-clear-password").
//
// Detection is by content: the server's HandshakeV10 (sequence 0, protocol 10, a
// printable version string starting with a digit, the zero filler where it belongs), or
// a client's first packet (sequence 1, CLIENT_PROTOCOL_41, the zero filler of an SSL
// Request or HandshakeResponse41). A port number never decides.
//
// Invariants: packets are framed by capture/internal/frame with MaxPacket bytes at most
// buffered per direction (longer packets are skipped by count, "mysql_oversized_packet");
// a gap loses the direction's framing ("mysql_gap") and the stream reads no more of it;
// the stream is done once the login was answered (nothing after it matters here) or TLS
// began.
package mysqlwire

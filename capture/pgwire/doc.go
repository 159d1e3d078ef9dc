// Package pgwire dissects the start of a PostgreSQL session (frontend/backend protocol
// 3.0): the SSLRequest and GSSENCRequest with which a client asks for an encrypted
// connection, the server's one-byte answer, and a login made in clear.
//
// The client speaks first. Its first message has no type byte: a 4-byte big-endian
// length and a 4-byte code — 80877103 for SSLRequest, 80877104 for GSSENCRequest, or the
// protocol version 3.0 (196608) of a StartupMessage followed by NUL-terminated
// parameter names and values (user, database, application_name…). The server answers an
// SSLRequest with a single byte: 'S', after which the client starts TLS on the same
// connection (the stream hands off, dissect.Handoff), or 'N', after which the client
// goes on in clear with a StartupMessage. A GSSENCRequest answered 'N' goes on the same
// way ('G' starts GSSAPI encryption, which this package does not read: the stream is
// done).
//
// After the StartupMessage every message has a type byte and a 4-byte length. The
// server's AuthenticationRequest ('R') says what the client's next PasswordMessage ('p')
// holds: the password itself (code 3, cleartext), which is hidden at once with
// dissect.Context.Secrets (observe.Credential Kind "postgresql-password"), or an MD5
// digest salted by the server (code 5), which is not a secret medscan keeps: the login
// is recorded with its user name only ("postgresql-md5"). SASL (SCRAM) messages reveal
// no secret to a passive observer and are not recorded. After AuthenticationOk the
// server's ParameterStatus "server_version" is recorded on the service (observe.Service
// Software), and ReadyForQuery ends the stream's interest. The answer to an SSLRequest
// is recorded there too (StartTLS "offered" for 'S', "refused" for 'N').
//
// Detection is by content: a client's first 8 bytes are SSLRequest or GSSENCRequest
// exactly, or a StartupMessage's length (at most MaxMessage) and version 3.0 with its
// first parameter name beginning. The server's first byte alone cannot be told from
// other protocols, so the server side never claims a flow.
//
// Invariants: messages are framed by capture/internal/frame with at most MaxMessage
// bytes buffered per direction (longer ones, such as query results, are skipped by
// count: "postgresql_oversized_message"); a gap loses the direction's framing
// ("postgresql_gap"); a password is never kept beyond the Hide call.
package pgwire

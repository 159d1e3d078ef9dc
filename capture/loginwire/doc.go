// Package loginwire dissects the cleartext login of three mail and file protocols — FTP,
// POP3 and IMAP — and emits an observe.Credential for every password (or password
// equivalent) sent in clear:
//
//   - FTP: USER then PASS (Kind "ftp-password"; "ftp-anonymous" when the user is
//     "anonymous" or "ftp", whose password is by convention an e-mail address).
//   - POP3: USER then PASS ("pop3-password"), APOP name digest ("pop3-apop": the digest
//     is replayable against the same server challenge and cracks offline), AUTH PLAIN
//     ("pop3-auth-plain") and AUTH LOGIN ("pop3-auth-login").
//   - IMAP: LOGIN with atoms, quoted strings or literals ("imap-password"), AUTHENTICATE
//     PLAIN ("imap-auth-plain") and AUTHENTICATE LOGIN ("imap-auth-login"), with the
//     response on the command line (SASL-IR) or on the next line.
//
// Invariants:
//   - A secret is handed to ctx.Secrets.Hide the moment its line is complete; only the
//     preview and the hash are kept, never the bytes.
//   - Lines are bounded by MaxLine (longer ones are skipped and counted as
//     "login_oversized_line"); an IMAP command with literals is bounded by MaxCommand, and
//     a literal larger than MaxLiteral (a message being APPENDed) is skipped by count.
//   - A Gap discards the line it fell in and resynchronises at the next line end
//     ("login_gap"); a literal being collected is abandoned.
//   - Done is true once a login succeeded (FTP 230, POP3 +OK, IMAP tagged OK) or the
//     session switched to TLS: after that nothing in clear matters. A failed login keeps
//     the dissector running, since a retry is another credential. The exception is FTP
//     under an engine that tracks announced connections (dissect.Context.Expect): after
//     the login the control channel, which is small, is followed to the end for its
//     transfers (below).
//   - FTP transfers (ftpdata.go): a 227 or 229 reply (passive) or a PORT or EPRT command
//     (active) announces the data connection to the engine as a dissect.Expectation,
//     at most MaxTransfers per session; the next RETR (a download) or STOR, APPE or STOU
//     (an upload) names it, and LIST, NLST or MLSD mark it a listing, which is not
//     reported. The data stream hashes the direction that carries bytes (SHA-256; a gap
//     makes it Partial, without a digest) and sniffs the image kind as HTTP does
//     (capture/internal/image); once both halves are known an observe.FileTransfer
//     names ftp://server/path. With an update keeper (dissect.Context.Keep) the data
//     stream hands it the bytes it hashes too; once named, a whole image or signature is
//     kept (package updatekeep), a listing or a transfer with a gap dropped. The data connection is expected at the control
//     connection's own hosts, never at an address a reply names: behind NAT that address
//     is not the one on the wire, and taking it would let a reply point at a third host.
//   - An upgrade in place (FTP AUTH TLS/SSL answered 234, POP3 STLS answered +OK, IMAP
//     STARTTLS answered by its tagged OK) makes the stream Done with Handoff true, so the
//     engine dissects the TLS that follows; credentials seen before it are emitted first.
//     Only the positive answer's complete line counts: a refusal (4xx/5xx, -ERR, NO/BAD)
//     keeps the dissection going in clear. The client speaks first in TLS, so server bytes
//     after the accepting line in the same delivery are a protocol error
//     ("login_starttls_trailing_bytes"), as are client bytes sent between the request and
//     its answer ("login_starttls_pipelined"); neither stops the handoff.
//   - STARTTLS observation (starttls.go): the IMAP greeting's [CAPABILITY ...] or an
//     untagged CAPABILITY response naming STARTTLS, or POP3's CAPA answer listing STLS,
//     read line by line before the login, and what became of the session (upgraded,
//     refused, clear) are emitted once, at End, as an observe.StartTLSGreeting, which
//     tls-stripped judges. A session whose list was not seen emits none.
//
// FTP and POP3 clients both open with "USER name", so a capture that missed the server's
// banner cannot tell them apart from the client's first line. Both Detect functions
// therefore claim it, and both stream dissectors are the same code, which settles the
// protocol from the first server line it sees ("220"-style numeric replies are FTP,
// "+OK"/"-ERR" are POP3) whichever dissector the engine picked. A credential read before
// any server line is held (hidden) until one arrives; if none ever does, the claiming
// dissector's protocol is used. Client commands that exist in only one protocol (APOP,
// STLS, AUTH PLAIN for POP3; AUTH TLS for FTP) settle it too when no server line does.
//
// SMTP belongs to smtpwire. A "220" banner is FTP's unless its first line names SMTP; the
// FTP detector waits for that line's end (or for "SMTP" to appear in it) before deciding,
// exactly as smtpwire's does, so the two never both claim a banner. The IMAP detector
// refuses the tags EHLO and HELO, which are SMTP clients' greetings.
package loginwire

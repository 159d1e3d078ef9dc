// Package smtpwire dissects SMTP sessions (RFC 5321, with ESMTP AUTH, STARTTLS,
// PIPELINING and CHUNKING) for the two things of value a passive observer can learn from
// them: credentials sent in clear, and whether the session upgraded to TLS. It emits an
// observe.Credential (Protocol "smtp") for every AUTH response that carries a secret:
//
//   - AUTH PLAIN, with the response on the command line or the next line: the user is the
//     authentication identity (the authorisation identity when that is empty), the secret
//     the password (Kind "smtp-auth-plain").
//   - AUTH LOGIN: user name and password each a base64 line answering a 334 challenge, the
//     user name possibly on the command line (Kind "smtp-auth-login").
//   - AUTH CRAM-MD5: the response is the user name and an HMAC-MD5 digest of the server's
//     challenge; the digest is kept as the secret since it cracks offline against the
//     challenge seen on the wire (Kind "smtp-auth-cram-md5").
//
// A response that is not valid base64 is still recorded, whole, as the secret. Other
// mechanisms (XOAUTH2, NTLM, GSSAPI, SCRAM...) are followed only so that their responses
// are not read as commands. Nothing else is emitted: the service itself is recorded by the
// engine, and mail (envelope, headers, body) is neither read nor kept.
//
// Invariants:
//   - A secret is handed to ctx.Secrets.Hide the moment its line is complete; only the
//     preview and the hash are kept. Decoded responses are wiped after use, and lines are
//     framed by capture/internal/lines, which wipes each line before reusing its buffer.
//   - Lines are bounded by MaxLine (longer ones are skipped, "smtp_oversized_line"). A
//     DATA body is scanned for its terminating "." line and a BDAT chunk skipped by count,
//     neither buffered ("smtp_body_bytes" counts what was skipped).
//   - Replies are paired with commands in order through a ring of at most MaxPending
//     unanswered commands, which is how pipelining is followed: a multi-line reply answers
//     once, at its last line; 334 challenges answer nothing; a 220 is the greeting unless
//     STARTTLS is outstanding. The pairing is loose by design: after a gap
//     ("smtp_gap") or an overflow ("smtp_pipeline_overflow") it may be out of step, which
//     at worst ends the dissection early or late; a body is left only at its terminator
//     or when DATA is refused (4xx/5xx), so a stray 250 cannot make message text read as
//     commands.
//   - A gap discards the line it fell in and resynchronises at the next line end; inside a
//     body it stays in the body rather than read message text as commands.
//
// Done, and why there:
//   - STARTTLS answered 220: Done with Handoff true, so the engine dissects the TLS that
//     follows. The client speaks first in TLS, so server bytes after the 220 line in the
//     same delivery are a protocol error ("smtp_starttls_trailing_bytes"), as are client
//     bytes between STARTTLS and its answer ("smtp_starttls_pipelined"). A refusal (454,
//     501...) leaves the session in clear and the dissection going.
//   - The first MAIL FROM answered 2xx: a mail transaction has begun, and AUTH and
//     STARTTLS are not allowed inside one (RFC 4954, RFC 3207), so nothing of value can
//     follow for a long while — sessions can carry many messages, and following them
//     would cost for nothing. Waiting for the answer rather than stopping at the command
//     keeps the common pattern of a device that tries MAIL, is refused with 530
//     (authentication required), then authenticates. A client whose server side is not
//     captured is followed to the end, skipping bodies.
//   - QUIT.
//
// What the EHLO reply said about STARTTLS (a line naming the keyword, RFC 3207) and what
// became of the session (upgraded, refused, or left in clear) is emitted once per session,
// when it is decided or at its end (observe.StartTLSGreeting): a server whose STARTTLS
// comes and goes between sessions is a sign of stripping (rules/intercept, tls-stripped).
// A session that only said HELO, or whose EHLO was refused, emits none.
package smtpwire

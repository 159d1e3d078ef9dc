// Package ldapwire dissects LDAP (RFC 4511) sessions in clear for two things: the
// StartTLS extended operation (RFC 4511 §4.14, OID 1.3.6.1.4.1.1466.20037), after which
// the connection carries TLS, and a bind that sends a password in clear.
//
// Every LDAP message is a BER-encoded LDAPMessage: SEQUENCE { messageID INTEGER,
// protocolOp [APPLICATION n], controls [0] OPTIONAL }. A client's ExtendedRequest
// ([APPLICATION 23]) naming the StartTLS OID is remembered by its message ID; the
// server's ExtendedResponse ([APPLICATION 24]) to that ID with resultCode success (0)
// ends the stream with a handoff (dissect.Handoff), and the client's ClientHello follows.
// Any other result keeps the session in clear. The answer is recorded on the service
// (observe.Service StartTLS "offered" or "refused").
//
// A BindRequest ([APPLICATION 0]) with simple authentication and a non-empty password
// is a credential in clear: the bind DN is the user, and the password is hidden at once
// with dissect.Context.Secrets (observe.Credential Kind "ldap-simple-bind"). A simple
// bind with an empty password is an anonymous or unauthenticated bind and sends no
// secret. A SASL bind with PLAIN carries the password too ("ldap-sasl-plain"); other SASL
// mechanisms are challenge-response and record nothing.
//
// Detection is by content: an LDAPMessage header (a SEQUENCE of definite length, a
// messageID INTEGER of 1 to 4 bytes, then an application tag that is a protocolOp of the
// direction — requests from a client, responses from a server — whose length fits the
// SEQUENCE). Both directions can claim a flow; a response marks the server.
//
// Invariants: messages are framed by capture/internal/frame (BER headers of at most
// six bytes, at most MaxMessage bytes buffered per direction; longer messages, such as
// large search results, are skipped by count: "ldap_oversized_message"); a gap loses the
// direction's framing ("ldap_gap"); indefinite lengths are not LDAP's and stop the
// direction ("ldap_bad_message"); BER is read with bounds checked at every step, never
// trusting a length beyond its enclosing element.
package ldapwire

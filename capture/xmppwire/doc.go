// Package xmppwire dissects the cleartext start of an XMPP stream (RFC 6120): the
// STARTTLS negotiation that upgrades it to TLS in place, and a SASL PLAIN
// authentication made in clear.
//
// Both sides open with a stream header, "<stream:stream …>" (client-to-server streams
// in the jabber:client namespace, server-to-server in jabber:server), optionally after
// an XML declaration. When the client sends <starttls
// xmlns='urn:ietf:params:xml:ns:xmpp-tls'/> the server answers <proceed …/> (the
// upgrade: the client's ClientHello follows, so the stream hands off, dissect.Handoff)
// or <failure …/> (the stream is closed). <auth mechanism='PLAIN'>base64</auth> in
// clear carries authzid NUL authcid NUL password: the password is hidden at once with
// dissect.Context.Secrets (observe.Credential Kind "xmpp-sasl-plain"); other mechanisms
// (SCRAM, DIGEST-MD5, EXTERNAL) send no password and record nothing. Whether the
// server's <stream:features> offered <starttls/>, and its answer, are recorded on the
// service (observe.Service StartTLS). A SASL <success/>
// ends the stream's interest: what follows is the session's traffic.
//
// The stream is read as a sequence of tags, not parsed as XML: only start tags and the
// text of a PLAIN <auth> element matter, and the namespaces that tell them apart are
// their xmlns attributes (RFC 6120 requires them on these elements). Detection is by
// content: after an optional XML declaration and white space, the first bytes are
// "<stream:stream" followed by white space.
//
// Invariants: at most MaxElement bytes are held per direction (a longer tag or <auth>
// text is dropped and counted, "xmpp_oversized_element"); a gap drops what the direction
// held and resumes at the next '<' ("xmpp_gap"); held bytes, which may hold a password,
// are wiped when consumed and at End.
package xmppwire

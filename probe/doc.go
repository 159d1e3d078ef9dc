// Package probe is medscan's active prober: it owns the targets a user names, the scope and
// exclusions derived from them, pacing, connection handling, and service and TLS
// enumeration with zcrypto. It reports what it sees as observe values and never judges.
//
// The invariant everything else rests on: nothing outside the Scope is ever contacted. No
// byte goes to an address the user did not name, and an exclusion always wins over an
// inclusion. Every ambiguity resolves towards contacting less:
//
//   - IPv4-mapped IPv6 addresses (::ffff:10.0.0.1) are unmapped before any comparison, so
//     writing an address in its mapped form is no way around an exclusion. An inclusion
//     that is an IPv6 CIDR or range covering the mapped block (::/64, say) does not thereby
//     include IPv4 hosts; an exclusion covering it does exclude them.
//   - A host name is in scope as a name: the addresses its resolution returns are in scope
//     for that name only (Scope.AllowsName), never for the bare address (Scope.Allows), and
//     an excluded address stays excluded whatever name resolves to it.
//   - A host name given as an exclusion keeps the whole scope closed until Scope.Resolve
//     has found its addresses, because until then no one knows which addresses to avoid.
//   - A malformed exclusion handed to NewScope closes the scope rather than being skipped.
//   - A target written with a port (10.0.0.5:8443, [2001:db8::1]:443, pacs.example:443) is
//     in scope on that port only (Scope.AllowsPort, Scope.AllowsNamePort); the run's port
//     list applies to targets written without one. An exclusion always removes the whole
//     host, whatever port it names.
//   - Every target form a user types expands to blocks, never to a list of addresses, and
//     an nmap octet pattern to at most 65536 of them, so a Scope's size follows what was
//     written, not how many addresses it covers.
//
// Enumeration includes every address of a CIDR, network and broadcast addresses too (as
// nmap does): the prefix a user writes is not necessarily the subnet's own, so probe
// cannot know which addresses are the subnet's network and broadcast addresses, and
// silently narrowing a written /24 to 254 addresses would surprise more than it protects.
//
// Run (run.go) is the prober: it takes every host from a Scope (address targets, and each
// name target at the addresses Scope.Resolve found, under its name) with its ports, in the
// order plan.go gives, which Scope.List prints for a dry run; it enumerates TLS on each port, identifies what does not speak TLS, and reports everything to an
// observe.Sink, serializing the calls so that an observe.Set can be passed as is.
//
// # Pacing
//
// Every connection goes through a per-host Dialer (pace.go), which is where politeness
// lives, so no protocol code can bypass it: one connection at a time per host, a pause
// (250 ms) from one connection's close to the next connect, a global rate (20/s), connect
// and handshake timeouts (3 s, 8 s; the handshake timeout is also the connection's
// deadline), a cap of connections per host (200), and leaving a host alone after
// consecutive failures (3). The politeness state belongs to the address, not the target:
// an address and the names resolving to it are one device. Failures are connect timeouts
// and unreachable errors, a port that accepted earlier and now refuses, and a port that
// accepts but stays silent for the whole handshake timeout; only an answer in a protocol
// ends a run of them. A refused connect on a port that never answered is a live host's
// prompt answer, and counting it would stop a host with a few closed ports before its
// open one. The Dialer checks the Scope again
// at dial time, counts every attempt per host and per port, and closes open connections
// at once when the context is cancelled. Hosts that Config.Skip names (medical devices)
// are reported as skipped without a single packet.
//
// # Service detection
//
// A port that does not speak TLS is identified (service.go) first from what it sent during
// the TLS attempt: an HTTP status line, an MLLP frame, or a DICOM A-ASSOCIATE-RJ or
// A-ABORT. Only silent or closing ports, and only in the standard profile and above, are
// then asked, and only in the protocol conventional on their port: HTTP HEAD on HTTP ports,
// a DICOM association for Verification on DICOM ports (released at once, or aborted if the
// answer cannot be read), an MQTT CONNECT without credentials then DISCONNECT on MQTT
// ports. A silent port with no convention is asked nothing, because interface engines run
// MLLP listeners on whatever ports a site chose. HL7 is never spoken to: an MLLP peer is
// recognised only from frames it sends itself. A port that was not recognised is
// "unknown", never guessed from its number. A panic on a port's answers is recovered and
// reported as that port's outcome "error".
//
// # TLS enumeration
//
// EnumerateTLS (enum.go) asks one port what TLS it accepts, every connection through the
// Dialer it is given, and reports it in the passive engine's terms: each accepted
// (version, suite) becomes an observe.TLSSession with Source active, so the same rules
// judge what was watched and what was asked.
//
//   - Every profile starts with one full handshake by a real client (tlsfull.go):
//     crypto/tls for TLS 1.0 to 1.3, since only a client that completes a TLS 1.3
//     handshake reads its encrypted chain and CertificateRequest and hears the server's
//     certificate_required verdict on an empty client certificate; and, when the server
//     refuses every suite crypto/tls implements, a second one with zcrypto, which still
//     speaks SSLv3, DHE and other legacy suites. Both ask for a stapled OCSP response
//     (status_request): what came, read by capture/tlswire's ReadStaple (TLS 1.3's arrives
//     encrypted, so from the TLS client), is the session's OCSPStaple, and whether one came
//     is the profile's OCSPStapling in every profile, at no connection's cost.
//   - Enumeration never completes a handshake. It sends small hand-built ClientHellos
//     (hello.go, sslv2.go), each in one Write and under 512 bytes, offering up to 64
//     suites at once from the whole IANA registry, and reads only the server's first
//     flight (tlsflight.go). The suite the server picks is dropped and the rest offered
//     again; a refusal drops the whole offer. The suites real servers implement are
//     offered first, so a server's preference order is normally read off its choices.
//     SSLv2 takes one exchange: the SERVER-HELLO lists every shared cipher kind.
//   - A first flight's facts (chain, key exchange group, DH size, CertificateRequest and
//     its CA names) come from capture/tlswire, the passive dissector, fed the server's
//     bytes; tlsflight.go only finds where the flight ends and reads the few ServerHello
//     fields the dissector does not report.
//   - Every read has a deadline (the handshake timeout) and the context cancels it; two
//     timeouts during enumeration end it, since a device that hangs on some hellos is
//     better left alone than tried with all of them, and so does any failed connect once
//     enumeration has begun: a service that went away is not knocked on again.
package probe

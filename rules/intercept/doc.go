// Package intercept holds the rules that look for the traces a man in the middle leaves
// on the wire, between a device and the middleware or EHR it reports to: a TLS server
// that shows some clients another key (tls-cert-substituted), an address claimed in ARP
// by a second MAC (arp-spoofing), a second DHCP server answering the clients of a
// segment (dhcp-rogue), and a mail server whose STARTTLS comes and goes
// (tls-stripped).
//
// Each is a sign, not a proof: load balancers, failover pairs, bonded interfaces and
// per-client server settings can look alike, so every rule keeps to the shape an
// attack has (a suspect key beside a trusted one within a window, a claim contested
// while both MACs speak, servers answering the same clients) and puts in the evidence
// what a responder checks first: both keys or MACs or servers, who saw which, and when.
// docs/interception.md says what each sign means and what to check.
//
// Invariants: like every rule, a pure function of the observations and the policy
// (no clock: windows are measured between observation times). Findings about an
// address claimed in ARP have no port; the suspect MAC or key is the subject, so two
// impostors give two findings.
package intercept

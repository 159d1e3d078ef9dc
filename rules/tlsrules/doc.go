// Package tlsrules holds the rules about negotiated TLS parameters: protocol version,
// cipher suite, forward secrecy and Diffie-Hellman group size. They judge what a server
// actually negotiated (passively watched or actively probed), one finding per server
// address and port, with every client, name and handshake that showed the problem in
// the evidence.
//
// SSLv2 sessions are judged by tls-legacy-version only: their cipher kinds are not TLS
// cipher suite numbers, so the suite rules do not apply to them.
package tlsrules

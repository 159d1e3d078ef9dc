// Package tlswire is the passive TLS dissector: it follows the cleartext part of a TLS
// (or SSLv2-compatible) handshake in both directions of a reassembled TCP flow and reports
// it as one observe.TLSSession, with the certificate chains as sent.
//
// Invariants:
//   - It reads untrusted bytes: it never panics, never allocates in proportion to a length
//     field it has not checked against the bytes actually present, and bounds what it
//     buffers (a record at 2^14+2048 bytes, a handshake message at 256 KiB); past a bound
//     it gives up the direction and counts why.
//   - It emits exactly one session per flow, as soon as nothing more can be learned (both
//     directions encrypted, or the TLS 1.3 ServerHello and the client's next flight) or at
//     End with whatever was seen. Done reports true from then on, so the engine can stop
//     reassembling the flow.
//   - It judges nothing: a resumed session without a certificate, or a TLS 1.3 session
//     whose certificates are encrypted (CertsEncrypted), is reported as it is.
package tlswire

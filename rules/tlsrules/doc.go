// Package tlsrules holds the rules about negotiated TLS parameters: protocol version,
// cipher suite, forward secrecy and Diffie-Hellman group size. They judge what a server
// actually negotiated (passively watched or actively probed), one finding per server
// address and port, with every client, name and handshake that showed the problem in
// the evidence.
//
// tls-no-client-auth judges whether a clinical interface (HL7, DICOM, MQTT or FHIR; see
// no_client_auth.go for how medscan, seeing only TLS, decides that a service is one, and the
// policy's clinical_services for naming more) asks its clients for a certificate. Only
// full TLS 1.2-or-older handshakes whose server flight was seen are judged: in TLS 1.3 the
// CertificateRequest travels encrypted and a resumed handshake has none, so a server seen
// only that way is not observable and raises nothing, rather than being reported as
// either asking or not.
//
// SSLv2 sessions are judged by tls-legacy-version only: their cipher kinds are not TLS
// cipher suite numbers, so the suite rules do not apply to them.
package tlsrules

// Package realsoft tests medscan against captures of real clinical software talking on
// the loopback interface, rather than against bytes the project generated itself.
//
// It holds no library code. Its tests start servers and clients from Debian packages,
// capture their conversations with tcpdump, run the medscan binary over the capture and
// read its JSON report:
//
//   - dcmtk: echoscu and storescu (AE titles MODALITY and CT01) to storescp (PACS), in
//     clear and with +tls; medscan must report both associations with their AE titles
//     and dcmtk's implementation version, raise cleartext-dicom on the plain port and
//     see only a TLS session on the other;
//   - python3-hl7: mllp_send delivers an ORU^R01 and an ADT^A01 with a patient segment
//     to an MLLP listener written in the test, which acknowledges each with MSA|AA;
//     medscan must report the message types, the sending application, the ACKs, and a
//     critical cleartext-hl7;
//   - mosquitto: mosquitto_pub with a user name and password to a broker that requires
//     them; medscan must report the MQTT CONNECT, an mqtt-password credential and
//     cleartext-credentials;
//   - nginx and curl: Basic authentication and an X-API-Key header to a JSON endpoint;
//     medscan must report both credentials, cleartext-credentials and cleartext-api;
//   - openssl: certificates made with openssl req/x509, served by s_server on loopback
//     addresses 127.0.0.1 to 127.0.0.7 and presented by s_client (TLS 1.2, so that they
//     are visible); medscan must report one certificate on two hosts as key-shared at
//     low and one key under two subjects at high, a self-signed SHA-1 leaf as
//     cert-self-signed without cert-weak-signature (a CA-signed one with it), and judge
//     client certificates by the client lifetime limits.
//   - nginx and curl again: a form login, a JSON login and a chunked JSON body with a
//     nested PIN; medscan must report each password-like field as a form-field or
//     json-field credential and cleartext-credentials, and no api-unauthenticated for
//     these logins, and keep neither the secrets nor the user name the bodies carried;
//   - nginx serving, on one port, FHIR, a pump's JSON API, and UPnP and DIAL device
//     descriptions, fetched by curl; medscan must raise cleartext-fhir for the FHIR
//     requests only, a cleartext-api of its own for the pump's API, and count no
//     description as an API.
//   - the lab's flows (flows_test.go): two pumps send HL7 over MLLP in clear (socat, each
//     from its own loopback address) to an interface engine, which forwards HL7 over TLS
//     1.2 (socat) to an EHR (openssl s_server); a client with a certificate calls the
//     EHR's HTTPS requiring one over TLS 1.2 and over TLS 1.3; medscan flows must report
//     clear, tls, mtls and, for TLS 1.3, tls-unknown-client-auth passively and mtls once
//     the same capture is scanned with the prober on that port.
//
// In every case it plants a recognisable patient name or secret in the traffic, checks
// the capture holds it (so that its absence elsewhere proves something), and requires
// that it appears neither in the JSON report nor in the SQLite store's files.
//
// Invariants: every address used is on loopback (127.0.0.1, ::1, and 127.0.0.2-7 for
// the certificate test's several hosts, 127.0.0.11-40 for the lab's flows); ports are free ports chosen by
// the kernel; every process the tests start is in its own process group, bounded in time
// and killed when its test ends; nothing is downloaded. storescp cannot be told which
// address to bind, so it is not left listening on every interface: the test listens on
// 127.0.0.1 itself and hands each accepted connection to `storescp --inetd`, the mode
// dcmtk provides for inetd and systemd socket activation. mosquitto and nginx are
// configured to listen on 127.0.0.1 only.
//
// A missing tool skips its test, saying which package provides it, unless
// MEDSCAN_REQUIRE_REALSOFT=1, which CI sets so that the tests cannot pass without
// running; a capture that the system forbids (tcpdump without the right to capture)
// skips the same way. MEDSCAN_REALSOFT_KEEP names a directory where each capture and
// its JSON report are kept, to inspect a failure afterwards.
//
// Run it with (tcpdump needs root or CAP_NET_RAW):
//
//	MEDSCAN_REQUIRE_REALSOFT=1 go test ./internal/realsoft -v
package realsoft

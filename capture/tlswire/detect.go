package tlswire

import "github.com/medscan/medscan/capture/dissect"

// Dissector is the TLS dissector as the capture engine registers it.
var Dissector = dissect.Dissector{Name: "tls", Detect: Detect, New: New}

// Record content types and handshake message types the dissector cares about.
const (
	recChangeCipherSpec = 20
	recAlert            = 21
	recHandshake        = 22
	recApplicationData  = 23
	recHeartbeat        = 24

	hsHelloRequest       = 0
	hsClientHello        = 1
	hsServerHello        = 2
	hsCertificate        = 11
	hsServerKeyExchange  = 12
	hsCertificateRequest = 13
	hsServerHelloDone    = 14

	sslv2ClientHello = 1
	sslv2ServerHello = 4
)

// maxRecord is the largest record body RFC 5246 allows (ciphertext: 2^14 + 2048).
const maxRecord = 1<<14 + 2048

// Detect recognises a TLS record header or an SSLv2-compatible hello at the start of a
// direction. Only hellos and the server's first messages decide a side (FromClient,
// FromServer); an alert or application data record (a capture that starts mid-flow)
// says Yes without one.
func Detect(b []byte) dissect.Match {
	if len(b) == 0 {
		return dissect.Match{Verdict: dissect.NeedMore}
	}
	if b[0]&0x80 != 0 {
		return detectSSLv2(b)
	}
	if b[0] < recChangeCipherSpec || b[0] > recApplicationData {
		return dissect.Match{}
	}
	if len(b) >= 2 && b[1] != 3 {
		return dissect.Match{}
	}
	if len(b) >= 3 && b[2] > 4 {
		return dissect.Match{}
	}
	if len(b) < 5 {
		return dissect.Match{Verdict: dissect.NeedMore}
	}
	n := int(b[3])<<8 | int(b[4])
	if n == 0 || n > maxRecord {
		return dissect.Match{}
	}
	switch b[0] {
	case recChangeCipherSpec:
		if n != 1 {
			return dissect.Match{}
		}
	case recAlert:
		// A cleartext alert is 2 bytes; an encrypted one is longer but never shorter.
		if n < 2 {
			return dissect.Match{}
		}
	case recHandshake:
		if len(b) < 6 {
			return dissect.Match{Verdict: dissect.NeedMore}
		}
		switch b[5] {
		case hsClientHello:
			return dissect.Match{Verdict: dissect.Yes, FromClient: true}
		case hsServerHello, hsCertificate, hsServerKeyExchange, hsCertificateRequest, hsServerHelloDone, hsHelloRequest:
			return dissect.Match{Verdict: dissect.Yes, FromServer: true}
		}
	}
	return dissect.Match{Verdict: dissect.Yes}
}

// detectSSLv2 recognises an SSLv2 record with a 2-byte header carrying a CLIENT-HELLO
// (version 2 or an SSLv3/TLS version, as in the compatible hello) or a SERVER-HELLO.
func detectSSLv2(b []byte) dissect.Match {
	if len(b) < 3 {
		return dissect.Match{Verdict: dissect.NeedMore}
	}
	n := int(b[0]&0x7f)<<8 | int(b[1])
	switch b[2] {
	case sslv2ClientHello:
		// type, version, three lengths: 9 bytes before the cipher specs.
		if n < 9 {
			return dissect.Match{}
		}
		if len(b) < 5 {
			return dissect.Match{Verdict: dissect.NeedMore}
		}
		if (b[3] == 0 && b[4] == 2) || (b[3] == 3 && b[4] <= 4) {
			return dissect.Match{Verdict: dissect.Yes, FromClient: true}
		}
	case sslv2ServerHello:
		// type, session-id-hit, certificate type, version, three lengths: 11 bytes.
		if n < 11 {
			return dissect.Match{}
		}
		if len(b) < 7 {
			return dissect.Match{Verdict: dissect.NeedMore}
		}
		if b[5] == 0 && b[6] == 2 {
			return dissect.Match{Verdict: dissect.Yes, FromServer: true}
		}
	}
	return dissect.Match{}
}

package tsharkdiff

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// This file compares the two sides. Each disagreement is reported with the tshark frame
// it came from and both values, so that a reader can open the capture in Wireshark at
// that frame and decide which side is wrong.

// exception is a known, diagnosed disagreement where medscan is right and tshark wrong.
// Each entry must say why; none is needed today.
type exception struct {
	file   string // base name of the capture
	frame  int    // the tshark frame of the fact
	reason string
}

// exceptions lists the diagnosed cases where tshark misreads the wire. It is empty: every
// disagreement found so far was medscan's to fix, and those are not excused here.
var exceptions []exception

func excused(file string, frame int) (string, bool) {
	for _, e := range exceptions {
		if e.file == file && e.frame == frame {
			return e.reason, true
		}
	}
	return "", false
}

// counts says how much a comparison checked, so that a run that compared nothing is
// visible in -v output.
type counts struct{ handshakes, certs, auth, mqtt int }

func (c counts) String() string {
	return fmt.Sprintf("%d TLS handshakes, %d certificates, %d HTTP authorizations, %d MQTT CONNECTs", c.handshakes, c.certs, c.auth, c.mqtt)
}

// compareOrFail fails the test for each disagreement between tshark and medscan on file.
func compareOrFail(t *testing.T, file string, ts tsFacts, ms msReport) counts {
	t.Helper()
	c, disagree, known := compare(file, ts, ms)
	for _, k := range known {
		t.Log(k)
	}
	for _, d := range disagree {
		t.Error(d)
	}
	return c
}

// compare checks that medscan's report holds every fact tshark read from file. It returns
// what it checked, the disagreements, and the known ones excused by exceptions.
func compare(file string, ts tsFacts, ms msReport) (c counts, disagree, known []string) {
	base := file[strings.LastIndexAny(file, `/\`)+1:]
	fail := func(frame int, format string, args ...any) {
		msg := fmt.Sprintf("%s frame %d: ", base, frame) + fmt.Sprintf(format, args...)
		if why, ok := excused(base, frame); ok {
			known = append(known, fmt.Sprintf("known disagreement (medscan right, tshark wrong: %s): %s", why, msg))
			return
		}
		disagree = append(disagree, msg)
	}

	seen := map[string]bool{}
	for _, h := range ts.Handshakes {
		if seen[h.key()] {
			continue
		}
		seen[h.key()] = true
		c.handshakes++
		var cands []msSession
		for _, s := range ms.TLSSessions {
			if s.Host == h.Host && s.Port == h.Port && s.Version == h.Version && s.Cipher == h.Suite {
				cands = append(cands, s)
			}
		}
		if len(cands) == 0 {
			fail(h.Frame, "tshark saw a %s %s handshake on %s:%d (client %s, SNI %q); medscan's tls_sessions has no {host, port, version, suite} like it: %s",
				h.Version, h.Suite, h.Host, h.Port, h.Client, h.SNI, sessionsOn(ms, h.Host, h.Port))
			continue
		}
		var diffs []string
		matched := false
		for _, s := range cands {
			d := sessionDiff(h, s)
			if len(d) == 0 {
				matched = true
				if h.Version == "TLSv1.3" && s.Observable {
					fail(h.Frame, "TLS 1.3 session on %s:%d claims its certificates were observable", h.Host, h.Port)
				}
				break
			}
			diffs = append(diffs, strings.Join(d, "; "))
		}
		if !matched {
			fail(h.Frame, "%s %s on %s:%d (client %s): no medscan session agrees with tshark; closest differ in: [%s]",
				h.Version, h.Suite, h.Host, h.Port, h.Client, strings.Join(diffs, "] or ["))
		}
	}

	for id, der := range ts.Certs {
		c.certs++
		frame := certFrame(ts, id)
		i := slices.IndexFunc(ms.Certificates, func(mc msCert) bool { return mc.SHA256 == id })
		if i < 0 {
			fail(frame, "certificate %s tshark extracted is not in medscan's certificates[]", id)
			continue
		}
		for _, d := range certDiff(der, ms.Certificates[i]) {
			fail(frame, "certificate %s: %s", id[:16], d)
		}
	}

	authSeen := map[tsAuth]bool{}
	for _, a := range ts.Auth {
		k := tsAuth{Host: a.Host, Port: a.Port, Scheme: a.Scheme}
		if authSeen[k] {
			continue
		}
		authSeen[k] = true
		c.auth++
		kinds := authKinds(a.Scheme)
		if !slices.ContainsFunc(ms.Credentials, func(cr msCredential) bool {
			return cr.Host == a.Host && cr.Port == a.Port && slices.Contains(kinds, cr.Kind)
		}) {
			fail(a.Frame, "tshark saw an Authorization %q on %s:%d; medscan has no credential of kind %v there: %v",
				a.Scheme, a.Host, a.Port, kinds, credentialsOn(ms, a.Host, a.Port))
		}
	}

	mqttSeen := map[tsMQTT]bool{}
	for _, m := range ts.MQTT {
		k := tsMQTT{Host: m.Host, Port: m.Port, Username: m.Username, Password: m.Password}
		if mqttSeen[k] {
			continue
		}
		mqttSeen[k] = true
		c.mqtt++
		if !slices.ContainsFunc(ms.MQTT, func(x msMQTT) bool {
			return x.Host == m.Host && x.Port == m.Port && x.HasUsername == m.Username && x.HasPassword == m.Password
		}) {
			fail(m.Frame, "tshark saw an MQTT CONNECT to %s:%d with username=%t password=%t; medscan's mqtt[] has %+v",
				m.Host, m.Port, m.Username, m.Password, ms.MQTT)
		}
	}
	return c, disagree, known
}

// sessionDiff lists how a medscan session differs from a tshark handshake of the same
// server, version and suite.
func sessionDiff(h tsHandshake, s msSession) []string {
	var d []string
	add := func(field string, ts, ms any) {
		if fmt.Sprint(ts) != fmt.Sprint(ms) {
			d = append(d, fmt.Sprintf("%s: tshark %v, medscan %v", field, ts, ms))
		}
	}
	add("client", h.Client, s.Client)
	add("sni", fmt.Sprintf("%q", h.SNI), fmt.Sprintf("%q", s.SNI))
	add("server_certs", h.ServerCerts, s.ServerCerts)
	add("client_certs", h.ClientCerts, s.ClientCerts)
	add("cert_request", h.CertRequest, s.CertRequest)
	add("dh_bits", h.DHBits, s.DHBits)
	return d
}

// certDiff checks the facts medscan reports for a certificate against Go's crypto/x509,
// where it parses the DER: key type and size, validity, CA flag, signature hash.
func certDiff(der []byte, mc msCert) []string {
	xc, err := x509.ParseCertificate(der)
	if err != nil || mc.ParseError != "" {
		return nil // a certificate crypto/x509 refuses is judged by the corpus test instead
	}
	var d []string
	add := func(field string, x, ms any) {
		if fmt.Sprint(x) != fmt.Sprint(ms) {
			d = append(d, fmt.Sprintf("%s: crypto/x509 %v, medscan %v", field, x, ms))
		}
	}
	switch k := xc.PublicKey.(type) {
	case *rsa.PublicKey:
		add("key_type", "rsa", mc.KeyType)
		add("key_bits", k.N.BitLen(), mc.KeyBits)
	case *ecdsa.PublicKey:
		add("key_type", "ecdsa", mc.KeyType)
		add("key_bits", k.Curve.Params().BitSize, mc.KeyBits)
	}
	add("not_before", xc.NotBefore.UTC(), mc.NotBefore.UTC())
	add("not_after", xc.NotAfter.UTC(), mc.NotAfter.UTC())
	add("is_ca", xc.BasicConstraintsValid && xc.IsCA, mc.IsCA)
	if h, ok := sigHashes[xc.SignatureAlgorithm]; ok {
		add("signature_hash", h, mc.SigHash)
	}
	return d
}

var sigHashes = map[x509.SignatureAlgorithm]string{
	x509.MD5WithRSA: "md5", x509.SHA1WithRSA: "sha1", x509.SHA256WithRSA: "sha256",
	x509.SHA384WithRSA: "sha384", x509.SHA512WithRSA: "sha512",
	x509.ECDSAWithSHA1: "sha1", x509.ECDSAWithSHA256: "sha256", x509.ECDSAWithSHA384: "sha384",
	x509.ECDSAWithSHA512:  "sha512",
	x509.SHA256WithRSAPSS: "sha256", x509.SHA384WithRSAPSS: "sha384", x509.SHA512WithRSAPSS: "sha512",
}

// authKinds are the credential kinds medscan may give an Authorization value whose first
// word tshark shows as scheme: "http-<scheme>", or for a value that is one token with no
// scheme, or whose first word is too odd to be a scheme name, "http-bare-token".
func authKinds(scheme string) []string {
	kinds := []string{"http-bare-token"}
	if scheme != "" && len(scheme) <= 24 && !strings.ContainsFunc(scheme, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.')
	}) {
		kinds = append(kinds, "http-"+strings.ToLower(scheme))
	}
	return kinds
}

// certFrame is the frame of the first handshake that carried a certificate.
func certFrame(ts tsFacts, id string) int {
	for _, h := range ts.Handshakes {
		if slices.Contains(h.ServerCerts, id) || slices.Contains(h.ClientCerts, id) {
			return h.Frame
		}
	}
	return 0
}

func sessionsOn(ms msReport, host string, port int) string {
	var b []string
	for _, s := range ms.TLSSessions {
		if s.Host == host && s.Port == port {
			b = append(b, fmt.Sprintf("{%s %s sni=%q client=%s}", s.Version, s.Cipher, s.SNI, s.Client))
		}
	}
	if len(b) == 0 {
		return "none on this server"
	}
	return strings.Join(b, " ")
}

func credentialsOn(ms msReport, host string, port int) []string {
	var b []string
	for _, c := range ms.Credentials {
		if c.Host == host && c.Port == port {
			b = append(b, c.Kind)
		}
	}
	return b
}

func TestCompare(t *testing.T) {
	// Not a certificate crypto/x509 parses, so only its presence is compared; the key
	// stands in for its hash (compare takes the map's keys as given).
	der := []byte{0x30, 0x03, 0x02, 0x01, 0x01}
	sum := "a6e0ac0a2da7e9d8c3bbd49fe2ce5a2c16bf06b5cfa8cbbc8d3a7a2c5f5b5e0d"
	ts := tsFacts{
		Handshakes: []tsHandshake{
			{Frame: 4, Client: "10.0.0.2", Host: "10.0.0.1", Port: 443, SNI: "a.example", Version: "TLSv1.2",
				Suite: "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", ServerCerts: []string{sum}, CertRequest: true},
			{Frame: 9, Client: "10.0.0.2", Host: "10.0.0.1", Port: 8443, Version: "TLSv1.3", Suite: "TLS_AES_128_GCM_SHA256"},
		},
		Auth:  []tsAuth{{Frame: 12, Host: "10.0.0.1", Port: 80, Scheme: "Basic"}},
		MQTT:  []tsMQTT{{Frame: 20, Host: "10.0.0.1", Port: 1883, Username: true, Password: true}},
		Certs: map[string][]byte{sum: der},
	}
	good := func() msReport {
		return msReport{
			TLSSessions: []msSession{
				{Client: "10.0.0.2", Host: "10.0.0.1", Port: 443, SNI: "a.example", Version: "TLSv1.2",
					Cipher: "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", ServerCerts: []string{sum}, CertRequest: true, Observable: true},
				{Client: "10.0.0.2", Host: "10.0.0.1", Port: 8443, Version: "TLSv1.3", Cipher: "TLS_AES_128_GCM_SHA256"},
			},
			Certificates: []msCert{{SHA256: sum}},
			Credentials:  []msCredential{{Host: "10.0.0.1", Port: 80, Kind: "http-basic"}},
			MQTT:         []msMQTT{{Host: "10.0.0.1", Port: 1883, HasUsername: true, HasPassword: true}},
		}
	}
	tests := []struct {
		name   string
		change func(r *msReport)
		want   string // a substring of the one disagreement; "" for none
	}{
		{"agree", func(r *msReport) {}, ""},
		{"session missing", func(r *msReport) { r.TLSSessions = r.TLSSessions[1:] }, "no {host, port, version, suite}"},
		{"other suite", func(r *msReport) { r.TLSSessions[0].Cipher = "TLS_RSA_WITH_AES_128_CBC_SHA" }, "no {host, port, version, suite}"},
		{"chain differs", func(r *msReport) { r.TLSSessions[0].ServerCerts = nil }, "server_certs: tshark"},
		{"no cert request", func(r *msReport) { r.TLSSessions[0].CertRequest = false }, "cert_request: tshark true, medscan false"},
		{"sni differs", func(r *msReport) { r.TLSSessions[0].SNI = "" }, `sni: tshark "a.example", medscan ""`},
		{"tls13 observable", func(r *msReport) { r.TLSSessions[1].Observable = true }, "claims its certificates were observable"},
		{"certificate missing", func(r *msReport) { r.Certificates = nil }, "not in medscan's certificates[]"},
		{"credential kind", func(r *msReport) { r.Credentials[0].Kind = "http-bearer" }, `Authorization "Basic"`},
		{"mqtt flags", func(r *msReport) { r.MQTT[0].HasPassword = false }, "MQTT CONNECT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := good()
			tt.change(&r)
			c, disagree, known := compare("/x/cap.pcap", ts, r)
			if c != (counts{handshakes: 2, certs: 1, auth: 1, mqtt: 1}) {
				t.Errorf("counts = %v", c)
			}
			if len(known) != 0 {
				t.Errorf("excused: %q", known)
			}
			switch {
			case tt.want == "" && len(disagree) != 0:
				t.Errorf("disagreements on an agreeing report: %q", disagree)
			case tt.want != "" && (len(disagree) != 1 || !strings.Contains(disagree[0], tt.want)):
				t.Errorf("disagreements = %q, want one containing %q", disagree, tt.want)
			case tt.want != "" && !strings.HasPrefix(disagree[0], "cap.pcap frame "):
				t.Errorf("disagreement %q does not name the capture and frame", disagree[0])
			}
		})
	}
}

func TestAuthKinds(t *testing.T) {
	tests := []struct {
		scheme string
		want   []string
	}{
		{"Basic", []string{"http-bare-token", "http-basic"}},
		{"NTLM", []string{"http-bare-token", "http-ntlm"}},
		{"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln", []string{"http-bare-token"}},
		{"a+b/c=", []string{"http-bare-token"}},
	}
	for _, tt := range tests {
		if got := authKinds(tt.scheme); !slices.Equal(got, tt.want) {
			t.Errorf("authKinds(%q) = %q, want %q", tt.scheme, got, tt.want)
		}
	}
}

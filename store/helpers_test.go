package store

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/observe"
)

// Fixtures shared by the store's tests (ported from package findings' tests when the
// store moved here).

var t0 = time.Date(2024, 3, 5, 10, 20, 30, 123456789, time.UTC)

func openTemp(t testing.TB) (*Store, string) {
	t.Helper()
	path := migratedStoreName(t)
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

// fixture DER blobs: the store keeps DER as bytes and never parses it.
var (
	leafDER = []byte("leaf certificate DER bytes")
	caDER   = []byte("intermediate certificate DER bytes")
	cliDER  = []byte("client certificate DER bytes")
	fileDER = []byte("certificate read from a file")
)

func hexSHA(b []byte) string { return fmt.Sprintf("%x", sha256.Sum256(b)) }

func certRef(b []byte) observe.CertRef { return observe.CertRef(sha256.Sum256(b)) }

// fullSet builds a Set holding one of every observation, with facts on two certificates.
func fullSet() *observe.Set {
	s := observe.NewSet()
	flow := observe.Flow{Client: ap("10.0.0.20:50000"), Server: ap("10.0.0.5:443")}
	s.AddTLS(observe.TLSSession{
		Flow: flow, FirstSeen: t0, LastSeen: t0.Add(time.Minute), Count: 3, Source: observe.SourcePassive,
		SawClientHello: true, SNI: "pacs.example", ALPN: []string{"h2", "http/1.1"}, ClientVersion: 0x0303,
		OfferedVersions: []uint16{0x0303, 0x0302}, OfferedSuites: []uint16{0xc02f, 0x0005}, OfferedGroups: []uint16{23, 29},
		JA3: "ja3hash", JA4: "t12d_abc_def", SawServerHello: true, Version: 0x0303, Suite: 0x0005,
		ALPNSelected: "http/1.1", CertRequest: true, CertRequestCAs: []string{"CN=Hospital CA"},
		DHBits: 0, ECDHCurve: 23, Alerts: []observe.Alert{{FromServer: true, Level: 2, Description: 40}},
	}, [][]byte{leafDER, caDER}, [][]byte{cliDER})
	// A TLS 1.3 session on another server, later, with nothing observable.
	s.AddTLS(observe.TLSSession{
		Flow: observe.Flow{Client: ap("10.0.0.20:50001"), Server: ap("10.0.0.100:8443")}, FirstSeen: t0.Add(time.Hour),
		Source: observe.SourcePassive, SawClientHello: true, SawServerHello: true, Version: 0x0304, Suite: 0x1301,
		CertsEncrypted: true, ECDHCurve: 29,
	}, nil, nil)
	// A handshake whose ServerHello was never seen.
	s.AddTLS(observe.TLSSession{
		Flow: observe.Flow{Client: ap("10.0.0.21:40000"), Server: ap("10.0.0.9:443")}, FirstSeen: t0,
		Source: observe.SourcePassive, SawClientHello: true, SNI: "lab.example",
	}, nil, nil)
	leaf := s.Certificates[certRef(leafDER)]
	leaf.Facts = &observe.CertFacts{
		Subject: "CN=pacs.example", Issuer: "CN=Hospital Issuing CA", SerialHex: "0a1b", NotBefore: t0.AddDate(-1, 0, 0),
		NotAfter: time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC), ValidityDays: 2922000, KeyType: "rsa", KeyBits: 1024,
		RSAExponent: 65537, SignatureAlgorithm: "SHA1-RSA", SignatureHash: "sha1", SPKISHA256: "spki1",
		DNSNames: []string{"pacs.example"}, IPAddresses: []string{"10.0.0.5"}, ExtKeyUsage: []string{"serverAuth"},
	}
	ca := s.Certificates[certRef(caDER)]
	ca.Facts = &observe.CertFacts{
		Subject: "CN=Hospital Issuing CA", Issuer: "CN=Hospital Root", KeyType: "ecdsa", KeyBits: 256, Curve: "P-256",
		IsCA: true, SignatureHash: "sha256", ParseError: "x509: unhandled critical extension",
	}
	// A certificate that the Set holds without any sighting (read from a file).
	ref := certRef(fileDER)
	s.Certificates[ref] = &observe.Certificate{SHA256: ref, DER: fileDER, FirstSeen: t0}

	s.AddService(observe.Service{Server: ap("10.0.0.5:443"), Transport: "tcp", Protocol: "tls", FirstSeen: t0,
		LastSeen: t0.Add(time.Minute), Source: observe.SourcePassive})
	s.AddService(observe.Service{Server: ap("10.0.0.100:8443"), Transport: "tcp", Protocol: "tls", FirstSeen: t0,
		Source: observe.SourcePassive})
	s.AddService(observe.Service{Server: ap("10.0.0.7:6661"), Transport: "tcp", Protocol: "hl7-mllp", FirstSeen: t0,
		Source: observe.SourcePassive})
	s.AddHost(netip.MustParseAddr("10.0.0.5"), "00:11:22:33:44:55", t0)
	s.AddHost(netip.MustParseAddr("10.0.0.5"), "00:11:22:33:44:00", t0.Add(time.Second))
	s.AddHost(netip.MustParseAddr("10.0.0.100"), "", t0)
	s.AddHost(netip.MustParseAddr("fe80::1"), "aa:bb:cc:dd:ee:ff", t0)
	s.AddCredential(observe.Credential{Flow: observe.Flow{Client: ap("10.0.0.30:1234"), Server: ap("10.0.0.8:80")},
		FirstSeen: t0, Protocol: "http", Kind: "http-basic", Where: "Authorization", User: "admin",
		Preview: "s3****9f (24 chars)", Hash: "00112233445566778899aabbccddeeff"})
	s.AddHTTP(observe.HTTPRequest{Flow: observe.Flow{Client: ap("10.0.0.30:1234"), Server: ap("10.0.0.8:80")},
		FirstSeen: t0, Method: "GET", HostHeader: "pump.example", Path: "/api/v1/status", API: observe.APIOther,
		QueryKeys: []string{"token"}, UserAgent: "curl/8", ContentType: "", AuthScheme: "Basic", HasCookie: true,
		APIKeyHeaders: []string{"X-Api-Key"}, Status: 200, Server: "nginx", RespContentType: "application/json"})
	s.AddMQTT(observe.MQTTConnect{Flow: observe.Flow{Client: ap("[2001:db8::2]:40000"), Server: ap("[2001:db8::1]:1883")},
		FirstSeen: t0, ProtocolName: "MQTT", ProtocolLevel: 4, ClientID: "pump-7", Username: "pump", HasUsername: true,
		HasPassword: true})
	s.AddHL7(observe.HL7Message{Flow: observe.Flow{Client: ap("10.0.0.40:3000"), Server: ap("10.0.0.7:6661")},
		FirstSeen: t0, SendingApp: "LAB", SendingFacility: "H1", ReceivingApp: "EMR", ReceivingFacility: "H1",
		MessageType: "ORU", TriggerEvent: "R01", Version: "2.5", PatientSegments: 2})
	s.AddDICOM(observe.DICOMAssociation{Flow: observe.Flow{Client: ap("10.0.0.41:5000"), Server: ap("10.0.0.42:11112")},
		FirstSeen: t0, CallingAE: "MODALITY", CalledAE: "PACS", Result: "accepted", ImplClassUID: "1.2.3",
		ImplVersion: "DCMTK", AbstractSyntaxes: []string{"1.2.840.10008.1.1"}})
	s.Problem(observe.Problem{Source: "a.pcap", Offset: 4096, Message: "truncated record", Fatal: true})
	s.AddCounter("tcp_gap_bytes", 512)
	return s
}

func testFindings() []findings.Finding {
	fs := []findings.Finding{
		{Rule: "tls-weak-cipher", Severity: findings.High, Host: "10.0.0.5", Port: 443, Message: "RC4 negotiated",
			Evidence: map[string]any{"suite": "TLS_RSA_WITH_RC4_128_SHA", "count": 3, "big": uint64(1) << 60},
			Time:     t0, Source: "passive", Remediation: "disable RC4", References: []string{"NIST SP 800-52r2"}},
		{Rule: "cert-weak-signature", Severity: findings.High, Host: "10.0.0.5", Port: 443, Subject: hexSHA(leafDER),
			Message: "SHA-1 signature", Time: t0, Source: "passive", Remediation: "reissue"},
		{Rule: "cleartext-hl7", Severity: findings.Critical, Host: "10.0.0.7", Port: 6661, Message: "HL7 in clear",
			Evidence: map[string]any{"patient_segments": 2}, Time: t0.Add(time.Second), Source: "passive",
			Remediation: "use TLS", References: []string{"HIPAA 45 CFR 164.312(e)"}},
		{Rule: "tls-legacy-version", Severity: findings.High, Host: "10.0.0.10", Port: 443, Message: "TLS 1.0", Time: t0,
			Source: "passive"},
		{Rule: "cert-expiring-soon", Severity: findings.Low, Host: "10.0.0.5", Port: 443, Message: "expires", Time: t0,
			Source: "passive"},
	}
	for i := range fs {
		fs[i].SetFingerprint()
	}
	return fs
}

// testInfo is the old testMeta: the description of a scan as the caller completes it.
func testInfo() findings.ScanInfo {
	return findings.ScanInfo{Started: t0.Add(-time.Minute), Finished: t0.Add(2 * time.Hour), Label: "ward 7",
		Sources: []string{"a.pcap", "b.pcapng"}, Complete: false,
		Problems:    []observe.Problem{{Source: "b.pcapng", Offset: -1, Message: "bad block", Fatal: false}},
		Counters:    []observe.Counter{{Name: "packets", Value: 1000}, {Name: "tcp_gap_bytes", Value: 7}},
		ToolVersion: "v0.1.0", Policy: "default"}
}

// save is the old SaveScan(ctx, meta, set, findings): the report built from a set with
// findings.NewReport, then saved.
func save(ctx context.Context, s *Store, info findings.ScanInfo, set *observe.Set, fs []findings.Finding) (int64, error) {
	return s.Save(ctx, findings.NewReport(info, set, fs))
}

// mustSave is save failing the test on error.
func mustSave(t testing.TB, s *Store, info findings.ScanInfo, set *observe.Set, fs []findings.Finding) int64 {
	t.Helper()
	id, err := save(context.Background(), s, info, set, fs)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// checkpoint is the old CheckpointScan(ctx, id, meta, set, findings).
func checkpoint(ctx context.Context, s *Store, id int64, info findings.ScanInfo, set *observe.Set, fs []findings.Finding) error {
	return s.Checkpoint(ctx, id, findings.NewReport(info, set, fs))
}

func mustLoad(t testing.TB, s *Store, id int64) *findings.Report {
	t.Helper()
	r, err := s.Load(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func fileHash(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

func count(t testing.TB, s *Store, query string, args ...any) int {
	t.Helper()
	var n int
	if err := s.db.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// nonNil is v, or an empty list for nil: what a tidy document holds.
func nonNil[T any](v []T) []T {
	if v == nil {
		return []T{}
	}
	return v
}

// assessed is the coverage check Diff makes of one finding: whether scan r assessed f
// again, and if not, why not.
func assessed(r *findings.Report, f findings.Finding, catalog findings.Catalog) (bool, string) {
	reason := newSeen(r).unassessed(f, catalog)
	return reason == "", reason
}

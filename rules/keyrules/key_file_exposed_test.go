package keyrules

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"slices"
	"strings"
	"testing"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/lint"
	"github.com/medscan/medscan/lint/linttest"
	"github.com/medscan/medscan/observe"
	"github.com/medscan/medscan/rules"
	"github.com/medscan/medscan/rules/internal/rulestest"
)

func TestKeyFileExposed(t *testing.T) {
	pumpKey := linttest.RSAKey(t, 2048)
	pump := linttest.New(t, linttest.Spec{CN: "pump-0013", Key: pumpKey})
	cert, err := x509.ParseCertificate(pump.DER)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	pumpSPKI := hex.EncodeToString(sum[:])
	at := rulestest.T0
	keyFile := func(file string, k observe.KeyFile) observe.KeyFile {
		k.File, k.Path, k.Time, k.Mode = file, "/site/"+file, at, "0644"
		return k
	}
	plainRSA := observe.KeyFile{Format: "pkcs8", KeyType: "rsa", KeyBits: 2048, SPKISHA256: pumpSPKI}
	otherEC := observe.KeyFile{Format: "sec1", KeyType: "ecdsa", KeyBits: 256, Curve: "P-256", SPKISHA256: strings.Repeat("ab", 32)}
	encrypted := observe.KeyFile{Format: "pkcs8", KeyType: "unknown", Encrypted: true}
	set := func(withCert bool, keys ...observe.KeyFile) *observe.Set {
		s := observe.NewSet()
		if withCert {
			s.AddCertificate(pump.DER, observe.CertSighting{Time: at, Source: observe.SourceFile, File: "certs/pump.pem"})
		}
		for _, k := range keys {
			s.AddKeyFile(k)
		}
		lint.Examine(s)
		lint.MatchKeyFiles(s)
		return s
	}
	raisedInfo := rules.DefaultPolicy()
	raisedInfo.Severity["key-file-exposed"] = findings.Medium
	disabled := rules.DefaultPolicy()
	disabled.Disabled = []string{"key-file-exposed"}
	tests := []struct {
		name string
		set  *observe.Set
		pol  *rules.Policy
		want []string // "severity file: message"
	}{
		{"the key of a certificate of the run, in clear: low, naming the certificate",
			set(true, keyFile("certs/pump.key", plainRSA)), nil,
			[]string{"low certs/pump.key: private key (RSA-2048) readable in certs/pump.key, the key of certificate CN=pump-0013"}},
		{"a key no certificate of the run carries",
			set(true, keyFile("certs/old.key", otherEC)), nil,
			[]string{"low certs/old.key: private key (ECDSA P-256) readable in certs/old.key, the key of no certificate read in this run"}},
		{"an encrypted key: info",
			set(true, keyFile("certs/pump.p8", encrypted)), nil,
			[]string{"info certs/pump.p8: encrypted private key of unknown type in certs/pump.p8; whose key it is cannot be read without the passphrase"}},
		{"an encrypted key whose public half is in clear (OpenSSH) still names its certificate",
			set(true, keyFile("certs/id_pump", observe.KeyFile{Format: "openssh", KeyType: "rsa", KeyBits: 2048, Encrypted: true, SPKISHA256: pumpSPKI})), nil,
			[]string{"info certs/id_pump: encrypted private key (RSA-2048) in certs/id_pump, the key of certificate CN=pump-0013"}},
		{"the second key of a file",
			set(false, keyFile("certs/keys.pem", otherEC), keyFile("certs/keys.pem", observe.KeyFile{Position: 1, Format: "pkcs8", KeyType: "ed25519", KeyBits: 256, Curve: "Ed25519", SPKISHA256: strings.Repeat("cd", 32)})), nil,
			[]string{
				"low certs/keys.pem: private key (ECDSA P-256) readable in certs/keys.pem, the key of no certificate read in this run",
				"low certs/keys.pem: private key (Ed25519) readable in certs/keys.pem (private key 2 in the file), the key of no certificate read in this run",
			}},
		{"a policy's severity wins, for an encrypted key too",
			set(false, keyFile("certs/pump.p8", encrypted)), raisedInfo,
			[]string{"medium certs/pump.p8: encrypted private key of unknown type in certs/pump.p8; whose key it is cannot be read without the passphrase"}},
		{"disabled by the policy", set(false, keyFile("certs/pump.key", plainRSA)), disabled, nil},
		{"certificates without keys: not applicable", set(true), nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs := rulestest.Run(t, keyFileExposed{}, tc.set, tc.pol)
			var got []string
			for _, f := range fs {
				got = append(got, f.Severity.String()+" "+f.File+": "+f.Message)
				if f.Host != "" || f.Port != 0 || f.Source != "file" || f.Location() != f.File {
					t.Errorf("a key file finding at host %q port %d, source %s, location %q", f.Host, f.Port, f.Source, f.Location())
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, tc.want) {
				t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}

	// One key in two files is one finding (its identity is the public key) naming both
	// files and both paths; the evidence names the certificate and never holds key bytes.
	fs := rulestest.Run(t, keyFileExposed{}, set(true, keyFile("certs/pump.key", plainRSA), keyFile("backup/pump.key", plainRSA)), nil)
	if len(fs) != 1 {
		t.Fatalf("%d findings for one key in two files, want 1", len(fs))
	}
	f := fs[0]
	if f.Subject != pumpSPKI || !slices.Equal(f.Evidence["files"].([]string), []string{"backup/pump.key", "certs/pump.key"}) ||
		!slices.Equal(f.Evidence["paths"].([]string), []string{"/site/backup/pump.key", "/site/certs/pump.key"}) {
		t.Errorf("subject %s, files %v, paths %v", f.Subject, f.Evidence["files"], f.Evidence["paths"])
	}
	if got := f.Evidence["certificates"].([]string); len(got) != 1 || got[0] != hex.EncodeToString(func() []byte { s := sha256.Sum256(pump.DER); return s[:] }()) ||
		!slices.Equal(f.Evidence["subjects"].([]string), []string{"CN=pump-0013"}) {
		t.Errorf("certificates %v, subjects %v", got, f.Evidence["subjects"])
	}
	// An encrypted PKCS #8 key has no public key to go by: its place tells it apart.
	fs = rulestest.Run(t, keyFileExposed{}, set(false, keyFile("certs/a.p8", encrypted), keyFile("certs/b.p8", encrypted)), nil)
	if len(fs) != 2 || fs[0].Subject == fs[1].Subject {
		t.Errorf("two encrypted keys: %d findings, subjects %q", len(fs), []string{fs[0].Subject, fs[len(fs)-1].Subject})
	}
}

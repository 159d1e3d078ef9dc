package main

import (
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/medscan/medscan/internal/testproc"
)

// The shared corpus is a set of real captures from other projects with the facts that
// Wireshark's dissectors read out of them. medscan must see the same; this test is the
// external oracle for the passive engine, run through the real binary.

type expectedCapture struct {
	File  string `json:"file"`
	Certs map[string]struct {
		IsCA         bool   `json:"is_ca"`
		Issuer       string `json:"issuer"`
		KeyBits      int    `json:"key_bits"`
		KeyType      string `json:"key_type"`
		NotAfter     string `json:"not_after"`
		NotBefore    string `json:"not_before"`
		SelfSigned   bool   `json:"self_signed"`
		SigHash      string `json:"sig_hash"`
		Subject      string `json:"subject"`
		ValidityDays int    `json:"validity_days"`
	} `json:"certs"`
	TLS []struct {
		Server      string   `json:"server"`
		Version     string   `json:"version"`
		CipherName  string   `json:"cipher_name"`
		SNI         string   `json:"sni"`
		ServerCerts []string `json:"server_certs"`
		ClientCerts []string `json:"client_certs"`
		CertRequest bool     `json:"cert_request"`
		DHBits      int      `json:"dh_bits"`
	} `json:"tls"`
	HTTPAuth []struct {
		Scheme string `json:"scheme"`
		Server string `json:"server"`
	} `json:"http_auth"`
	HTTPSecretURLs []struct {
		Server string `json:"server"`
	} `json:"http_secret_urls"`
	MQTT []struct {
		Server   string `json:"server"`
		Username bool   `json:"username"`
		Password bool   `json:"password"`
	} `json:"mqtt_connect"`
	HL7 []struct {
		Server string `json:"server"`
		Type   string `json:"type"`
		Event  string `json:"event"`
	} `json:"hl7"`
	DICOM []struct {
		Server  string `json:"server"`
		Calling string `json:"calling"`
		Called  string `json:"called"`
	} `json:"dicom_assoc"`
	Findings []struct {
		Rule string `json:"rule"`
		Host string `json:"host"`
		Port int    `json:"port"`
	} `json:"findings"`
}

// corpusDir finds ../shared/corpus beside the repository. A user's fresh clone has no
// shared folder: there the test skips, naming what is missing; under CI it must exist.
func corpusDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(testproc.RepoRoot(t), "..", "shared", "corpus")
	if _, err := os.Stat(filepath.Join(dir, "expected.json")); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the shared corpus is missing under CI: %v", err)
		}
		t.Skipf("skipping: the shared corpus (%s) is missing: %v", dir, err)
	}
	return dir
}

// splitServer reads the corpus's "ip:port" form, where IPv6 is written without brackets.
func splitServer(t *testing.T, s string) (string, int) {
	t.Helper()
	i := strings.LastIndexByte(s, ':')
	port, err := strconv.Atoi(s[i+1:])
	if err != nil {
		t.Fatalf("bad server %q in expected.json", s)
	}
	return netip.MustParseAddr(s[:i]).String(), port
}

func TestCorpus(t *testing.T) {
	dir := corpusDir(t)
	raw, err := os.ReadFile(filepath.Join(dir, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var caps []expectedCapture
	if err := json.Unmarshal(raw, &caps); err != nil {
		t.Fatal(err)
	}
	if len(caps) == 0 {
		t.Fatal("expected.json lists no capture")
	}
	for _, want := range caps {
		t.Run(want.File, func(t *testing.T) {
			t.Parallel()
			work := t.TempDir()
			res := medscan(t, work, nil, "scan", "--pcap", filepath.Join(dir, "pcap", want.File),
				"--format", "json", "--db", filepath.Join(work, "m.db"))
			if res.code != 0 {
				t.Fatalf("exit %d\nstderr: %s", res.code, res.stderr)
			}
			got := parseReport(t, res.stdout)
			if !got.Scan.Complete || len(got.Scan.Problems) > 0 {
				t.Errorf("scan not complete: %+v", got.Scan.Problems)
			}
			checkCorpusTLS(t, want, got)
			checkCorpusCerts(t, want, got)
			checkCorpusCleartext(t, want, got)
			for _, f := range want.Findings {
				if !got.hasFinding(f.Rule, f.Host, f.Port) {
					t.Errorf("missing finding %s on %s:%d; medscan raised:\n%s", f.Rule, f.Host, f.Port, got.rules())
				}
			}
		})
	}
}

func checkCorpusTLS(t *testing.T, want expectedCapture, got jsonReport) {
	t.Helper()
	for _, w := range want.TLS {
		host, port := splitServer(t, w.Server)
		found := false
		for _, s := range got.TLSSessions {
			if s.Host != host || s.Port != port || s.Version != w.Version || s.Cipher != w.CipherName {
				continue
			}
			if s.SNI != w.SNI || s.CertRequest != w.CertRequest || s.DHBits != w.DHBits ||
				strings.Join(s.ServerCerts, ",") != strings.Join(w.ServerCerts, ",") ||
				strings.Join(s.ClientCerts, ",") != strings.Join(w.ClientCerts, ",") {
				continue
			}
			found = true
			if w.Version == "TLSv1.3" && s.Observable {
				t.Errorf("TLS 1.3 session on %s claims its certificates were observable", w.Server)
			}
			break
		}
		if !found {
			t.Errorf("no TLS session matches %+v; medscan saw %+v", w, got.TLSSessions)
		}
		svc := false
		for _, s := range got.Services {
			svc = svc || (s.Host == host && s.Port == port && s.Protocol == "tls")
		}
		if !svc {
			t.Errorf("services[] lacks the TLS service %s", w.Server)
		}
	}
}

func checkCorpusCerts(t *testing.T, want expectedCapture, got jsonReport) {
	t.Helper()
	for sha, w := range want.Certs {
		found := false
		for _, c := range got.Certificates {
			if c.SHA256 != sha {
				continue
			}
			found = true
			checks := []struct {
				name      string
				got, want any
			}{
				{"subject", c.Subject, w.Subject}, {"issuer", c.Issuer, w.Issuer},
				{"not_before", c.NotBefore, w.NotBefore}, {"not_after", c.NotAfter, w.NotAfter},
				{"validity_days", c.ValidityDays, w.ValidityDays}, {"key_type", c.KeyType, w.KeyType},
				{"key_bits", c.KeyBits, w.KeyBits}, {"signature_hash", c.SigHash, w.SigHash},
				{"is_ca", c.IsCA, w.IsCA}, {"self_signed", c.SelfSigned, w.SelfSigned},
			}
			for _, ch := range checks {
				if ch.got != ch.want {
					t.Errorf("certificate %s: %s = %v, want %v", sha[:12], ch.name, ch.got, ch.want)
				}
			}
			if len(c.SeenOn) == 0 {
				t.Errorf("certificate %s has no seen_on", sha[:12])
			}
		}
		if !found {
			t.Errorf("certificate %s (%s) not reported", sha[:12], w.Subject)
		}
	}
}

func checkCorpusCleartext(t *testing.T, want expectedCapture, got jsonReport) {
	t.Helper()
	for _, w := range want.HTTPAuth {
		host, port := splitServer(t, w.Server)
		kind := "http-" + strings.ToLower(w.Scheme)
		found := false
		for _, c := range got.Credentials {
			found = found || (c.Host == host && c.Port == port && c.Kind == kind)
		}
		if !found {
			t.Errorf("no %s credential on %s; medscan saw %+v", kind, w.Server, got.Credentials)
		}
	}
	for _, w := range want.HTTPSecretURLs {
		host, port := splitServer(t, w.Server)
		found := false
		for _, c := range got.Credentials {
			found = found || (c.Host == host && c.Port == port && c.Kind == "url-secret")
		}
		if !found {
			t.Errorf("no url-secret credential on %s", w.Server)
		}
	}
	matchObs := func(kind string, list []map[string]any, server string, fields map[string]any) {
		t.Helper()
		host, port := splitServer(t, server)
		for _, m := range list {
			if m["host"] != host || m["port"] != float64(port) {
				continue
			}
			ok := true
			for k, v := range fields {
				ok = ok && m[k] == v
			}
			if ok {
				return
			}
		}
		t.Errorf("no %s observation on %s with %v; medscan saw %v", kind, server, fields, list)
	}
	for _, w := range want.MQTT {
		matchObs("mqtt", got.MQTT, w.Server, map[string]any{"has_username": w.Username, "has_password": w.Password})
	}
	for _, w := range want.HL7 {
		matchObs("hl7", got.HL7, w.Server, map[string]any{"message_type": w.Type, "trigger_event": w.Event})
	}
	for _, w := range want.DICOM {
		matchObs("dicom", got.DICOM, w.Server, map[string]any{"calling_ae": w.Calling, "called_ae": w.Called})
	}
}

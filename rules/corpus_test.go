package rules_test

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/medscan/medscan/observe"
	"github.com/medscan/medscan/rules"
	_ "github.com/medscan/medscan/rules/all"
)

// The corpus test feeds each capture's oracle facts (expected.json: TLS sessions,
// certificate facts, cleartext records) through the default policy and checks that every
// expected {rule, host, port} is raised, and that the only extra findings are the ones
// listed below, each with its reason. lint's own test proves that lint.Facts gives these
// same certificate facts from the DER.

type corpusCapture struct {
	File string `json:"file"`
	TLS  []struct {
		Server      string   `json:"server"`
		Version     string   `json:"version"`
		Cipher      string   `json:"cipher"`
		SNI         string   `json:"sni"`
		ServerCerts []string `json:"server_certs"`
		ClientCerts []string `json:"client_certs"`
		CertRequest bool     `json:"cert_request"`
		DHBits      int      `json:"dh_bits"`
		Time        string   `json:"time"`
	} `json:"tls"`
	Certs map[string]struct {
		Subject      string `json:"subject"`
		Issuer       string `json:"issuer"`
		NotBefore    string `json:"not_before"`
		NotAfter     string `json:"not_after"`
		ValidityDays int    `json:"validity_days"`
		KeyType      string `json:"key_type"`
		KeyBits      int    `json:"key_bits"`
		SigHash      string `json:"sig_hash"`
		IsCA         bool   `json:"is_ca"`
		SelfSigned   bool   `json:"self_signed"`
	} `json:"certs"`
	HTTPAuth []struct {
		Scheme string `json:"scheme"`
		Server string `json:"server"`
	} `json:"http_auth"`
	MQTT []struct {
		Server   string `json:"server"`
		Username bool   `json:"username"`
		Password bool   `json:"password"`
	} `json:"mqtt_connect"`
	HL7 []struct {
		Server, Type, Event string
	} `json:"hl7"`
	DICOM []struct {
		Server, Calling, Called string
	} `json:"dicom_assoc"`
	Findings []struct {
		Rule string `json:"rule"`
		Host string `json:"host"`
		Port int    `json:"port"`
	} `json:"findings"`
}

// extras are the findings medscan raises beyond expected.json, each right by its evidence.
var extras = map[string][]string{
	// The server's and the client's leaves expire 2018-05-14; the capture is 2018-04-16.
	"suricata-client-auth.pcap": {"cert-expiring-soon ::1:8081", "cert-expiring-soon 192.0.2.200:0"},
	// www.tobu-estate.com expires 2014-03-14T23:59:59Z; the capture is 2014-03-13.
	"zeek-expired-cert.pcap": {"cert-expiring-soon 122.1.240.204:443"},
}

// ep reads expected.json's "host:port", where an IPv6 host has no brackets ("::1:8081").
func ep(s string) netip.AddrPort {
	i := strings.LastIndexByte(s, ':')
	port, _ := strconv.Atoi(s[i+1:])
	return netip.AddrPortFrom(netip.MustParseAddr(s[:i]), uint16(port))
}

var versions = map[string]uint16{"SSLv2": 0x0002, "SSLv3": 0x0300, "TLSv1.0": 0x0301, "TLSv1.1": 0x0302, "TLSv1.2": 0x0303, "TLSv1.3": 0x0304}

func TestCorpusFindings(t *testing.T) {
	wd, _ := os.Getwd()
	dir := filepath.Join(wd, "..", "..", "shared", "corpus")
	raw, err := os.ReadFile(filepath.Join(dir, "expected.json"))
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("corpus missing: %v", err)
		}
		t.Skipf("corpus missing at %s (%v); this test needs ../shared/corpus beside the repository", dir, err)
	}
	var caps []corpusCapture
	if err := json.Unmarshal(raw, &caps); err != nil {
		t.Fatal(err)
	}
	client := netip.MustParseAddr("192.0.2.200") // expected.json does not name clients
	for _, cp := range caps {
		t.Run(cp.File, func(t *testing.T) {
			set := observe.NewSet()
			// Certificates stand in as their hex digests; the facts come from the oracle.
			factsByDER := map[string]*observe.CertFacts{}
			for h, c := range cp.Certs {
				nb, _ := time.Parse(time.RFC3339, c.NotBefore)
				na, _ := time.Parse(time.RFC3339, c.NotAfter)
				kt := c.KeyType
				factsByDER[h] = &observe.CertFacts{Subject: c.Subject, Issuer: c.Issuer, NotBefore: nb, NotAfter: na,
					ValidityDays: c.ValidityDays, KeyType: kt, KeyBits: c.KeyBits, RSAExponent: 65537,
					SignatureHash: c.SigHash, IsCA: c.IsCA, SelfSigned: c.SelfSigned}
			}
			chain := func(hs []string) [][]byte {
				var out [][]byte
				for _, h := range hs {
					out = append(out, []byte(h))
				}
				return out
			}
			for i, s := range cp.TLS {
				secs, _ := strconv.ParseFloat(s.Time, 64)
				at := time.Unix(int64(secs), 0).UTC()
				suite, _ := strconv.ParseUint(strings.TrimPrefix(s.Cipher, "0x"), 16, 16)
				v := versions[s.Version]
				set.AddTLS(observe.TLSSession{
					Flow:      observe.Flow{Client: netip.AddrPortFrom(client, uint16(40000+i)), Server: ep(s.Server)},
					FirstSeen: at, Source: observe.SourcePassive, SawClientHello: true, SawServerHello: true,
					Version: v, Suite: uint16(suite), SNI: s.SNI, CertRequest: s.CertRequest, DHBits: s.DHBits,
					CertsEncrypted: v == 0x0304,
				}, chain(s.ServerCerts), chain(s.ClientCerts))
			}
			for _, c := range set.Certificates {
				c.Facts = factsByDER[string(c.DER)]
			}
			for _, a := range cp.HTTPAuth {
				set.AddCredential(observe.Credential{Flow: observe.Flow{Client: netip.AddrPortFrom(client, 40000), Server: ep(a.Server)},
					FirstSeen: time.Unix(1, 0), Protocol: "http", Kind: "http-" + strings.ToLower(a.Scheme), Where: "Authorization",
					Preview: "**** (8 chars)", Hash: "00112233445566778899aabbccddeeff"})
			}
			for _, m := range cp.MQTT {
				if m.Password {
					set.AddCredential(observe.Credential{Flow: observe.Flow{Client: netip.AddrPortFrom(client, 40000), Server: ep(m.Server)},
						FirstSeen: time.Unix(1, 0), Protocol: "mqtt", Kind: "mqtt-password", Where: "CONNECT",
						Preview: "**** (8 chars)", Hash: "00112233445566778899aabbccddeeff"})
				}
			}
			for _, m := range cp.HL7 {
				set.AddHL7(observe.HL7Message{Flow: observe.Flow{Client: netip.AddrPortFrom(client, 40000), Server: ep(m.Server)},
					FirstSeen: time.Unix(1, 0), MessageType: m.Type, TriggerEvent: m.Event})
			}
			for _, d := range cp.DICOM {
				set.AddDICOM(observe.DICOMAssociation{Flow: observe.Flow{Client: netip.AddrPortFrom(client, 40000), Server: ep(d.Server)},
					FirstSeen: time.Unix(1, 0), CallingAE: d.Calling, CalledAE: d.Called})
			}

			fs := rules.Evaluate(set, nil)
			got := map[string]bool{}
			for _, f := range fs {
				got[fmt.Sprintf("%s %s:%d", f.Rule, f.Host, f.Port)] = true
			}
			want := map[string]bool{}
			for _, f := range cp.Findings {
				k := fmt.Sprintf("%s %s:%d", f.Rule, f.Host, f.Port)
				want[k] = true
				if !got[k] {
					t.Errorf("missing expected finding %s", k)
				}
			}
			for _, k := range extras[cp.File] {
				want[k] = true
				if !got[k] {
					t.Errorf("missing known extra finding %s", k)
				}
			}
			for k := range got {
				if !want[k] {
					t.Errorf("unexplained extra finding %s", k)
				}
			}
			if t.Failed() || testing.Verbose() {
				for _, f := range fs {
					t.Logf("%s %s %s:%d %s", f.Severity, f.Rule, f.Host, f.Port, f.Message)
				}
			}
		})
	}
}

package lint

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

// corpusDir finds ../shared/corpus beside the repository root. Without it the test skips,
// naming what is missing; under CI=true it fails, since CI has the corpus.
func corpusDir(t testing.TB) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(wd, "..", "..", "shared", "corpus")
	if _, err := os.Stat(filepath.Join(dir, "expected.json")); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("corpus missing at %s: %v", dir, err)
		}
		t.Skipf("corpus missing at %s (%v); these tests need ../shared/corpus beside the repository", dir, err)
	}
	return dir
}

// expectedCert is one entry of expected.json's certs.
type expectedCert struct {
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
}

type expectedCapture struct {
	File  string                  `json:"file"`
	Certs map[string]expectedCert `json:"certs"`
}

func loadExpected(t testing.TB, dir string) []expectedCapture {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var out []expectedCapture
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("expected.json: %v", err)
	}
	return out
}

// tcpStreams decodes a capture into each TCP direction's payload, ordered by sequence
// number (retransmitted bytes land on the same offsets). It is a test's naive reader,
// good enough to find the certificates in the corpus.
func tcpStreams(t testing.TB, path string) [][]byte {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var next func() ([]byte, gopacket.CaptureInfo, error)
	var lt layers.LinkType
	if bytes.HasPrefix(raw, []byte{0x0a, 0x0d, 0x0d, 0x0a}) {
		r, err := pcapgo.NewNgReader(bytes.NewReader(raw), pcapgo.DefaultNgReaderOptions)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		next, lt = r.ReadPacketData, r.LinkType()
	} else {
		r, err := pcapgo.NewReader(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		next, lt = r.ReadPacketData, r.LinkType()
	}
	type seg struct {
		seq  uint32
		data []byte
	}
	dirs := map[string][]seg{}
	var order []string
	first := gopacket.LayerType(lt)
	switch lt {
	case layers.LinkTypeIPv4:
		first = layers.LayerTypeIPv4
	case layers.LinkTypeRaw:
		first = layers.LayerTypeIPv4
	}
	for {
		data, _, err := next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		var pkt gopacket.Packet
		if first == layers.LayerTypeIPv4 {
			pkt = gopacket.NewPacket(data, layers.LayerTypeIPv4, gopacket.Default)
		} else {
			pkt = gopacket.NewPacket(data, lt, gopacket.Default)
		}
		tl, _ := pkt.Layer(layers.LayerTypeTCP).(*layers.TCP)
		nl := pkt.NetworkLayer()
		if tl == nil || nl == nil || len(tl.Payload) == 0 {
			continue
		}
		key := nl.NetworkFlow().String() + "/" + tl.TransportFlow().String()
		if _, ok := dirs[key]; !ok {
			order = append(order, key)
		}
		dirs[key] = append(dirs[key], seg{tl.Seq, append([]byte(nil), tl.Payload...)})
	}
	var out [][]byte
	for _, key := range order {
		segs := dirs[key]
		base := segs[0].seq
		for _, s := range segs {
			if int32(s.seq-base) < 0 {
				base = s.seq
			}
		}
		sort.SliceStable(segs, func(i, j int) bool { return segs[i].seq-base < segs[j].seq-base })
		var buf []byte
		for _, s := range segs {
			off := int(s.seq - base)
			if off > 64<<20 {
				continue
			}
			if end := off + len(s.data); end > len(buf) {
				buf = append(buf, make([]byte, end-len(buf))...)
			}
			copy(buf[off:], s.data)
		}
		out = append(out, buf)
	}
	return out
}

// corpusCerts returns every certificate DER found in the corpus captures whose SHA-256
// expected.json lists, keyed by hex SHA-256.
func corpusCerts(t testing.TB, dir string, exp []expectedCapture) map[string][]byte {
	t.Helper()
	want := map[string]bool{}
	for _, c := range exp {
		for h := range c.Certs {
			want[h] = true
		}
	}
	found := map[string][]byte{}
	for _, c := range exp {
		if len(c.Certs) == 0 {
			continue
		}
		for _, s := range tcpStreams(t, filepath.Join(dir, "pcap", c.File)) {
			for i := 0; i+4 <= len(s); i++ {
				if s[i] != 0x30 || s[i+1] != 0x82 {
					continue
				}
				n := 4 + (int(s[i+2])<<8 | int(s[i+3]))
				if i+n > len(s) {
					continue
				}
				sum := sha256.Sum256(s[i : i+n])
				h := hex.EncodeToString(sum[:])
				if want[h] {
					found[h] = append([]byte(nil), s[i:i+n]...)
				}
			}
		}
	}
	return found
}

// corpusDirIfPresent is corpusDir for fuzz seeding, which does without the corpus.
func corpusDirIfPresent() (string, bool) {
	wd, err := os.Getwd()
	if err != nil {
		return "", false
	}
	dir := filepath.Join(wd, "..", "..", "shared", "corpus")
	_, err = os.Stat(filepath.Join(dir, "expected.json"))
	return dir, err == nil
}

// corpusCertsQuiet returns the corpus certificates, or none when reading fails.
func corpusCertsQuiet(dir string) [][]byte {
	var t quietTB
	var out [][]byte
	func() {
		defer func() { _ = recover() }()
		for _, der := range corpusCerts(&t, dir, loadExpected(&t, dir)) {
			out = append(out, der)
		}
	}()
	return out
}

// quietTB lets the corpus helpers run outside a test: a failure aborts via panic.
type quietTB struct{ testing.TB }

func (quietTB) Helper()               {}
func (quietTB) Fatal(args ...any)     { panic("corpus") }
func (quietTB) Fatalf(string, ...any) { panic("corpus") }

func TestFactsCorpus(t *testing.T) {
	dir := corpusDir(t)
	exp := loadExpected(t, dir)
	certs := corpusCerts(t, dir, exp)
	for _, c := range exp {
		for h, e := range c.Certs {
			t.Run(c.File+"/"+h[:12], func(t *testing.T) {
				der, ok := certs[h]
				if !ok {
					t.Fatalf("certificate %s not found in %s", h, c.File)
				}
				f := Facts(der)
				if f.ParseError != "" {
					t.Errorf("ParseError = %q", f.ParseError)
				}
				keyType := f.KeyType
				got := expectedCert{
					Subject: f.Subject, Issuer: f.Issuer,
					NotBefore: f.NotBefore.Format("2006-01-02T15:04:05Z"), NotAfter: f.NotAfter.Format("2006-01-02T15:04:05Z"),
					ValidityDays: f.ValidityDays, KeyType: keyType, KeyBits: f.KeyBits, SigHash: f.SignatureHash,
					IsCA: f.IsCA, SelfSigned: f.SelfSigned,
				}
				if got != e {
					t.Errorf("facts differ\n got: %+v\nwant: %+v", got, e)
				}
				if f.SPKISHA256 == "" || f.SignatureAlgorithm == "" || f.SerialHex == "" {
					t.Errorf("missing SPKI/signature/serial: %+v", f)
				}
			})
		}
	}
}

package observe

import (
	"crypto/tls"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	ztls "github.com/zmap/zcrypto/tls"
)

func TestVersionName(t *testing.T) {
	tests := []struct {
		v    uint16
		want string
	}{
		{0, ""},
		{0x0002, "SSLv2"},
		{0x0300, "SSLv3"},
		{0x0301, "TLSv1.0"},
		{0x0302, "TLSv1.1"},
		{0x0303, "TLSv1.2"},
		{0x0304, "TLSv1.3"},
		{0x7f1c, "0x7f1c"},
		{0xfefd, "0xfefd"},
	}
	for _, tt := range tests {
		if got := VersionName(tt.v); got != tt.want {
			t.Errorf("VersionName(%#04x) = %q, want %q", tt.v, got, tt.want)
		}
	}
}

func TestSuiteName(t *testing.T) {
	tests := []struct {
		id   uint16
		want string
	}{
		{0x0004, "TLS_RSA_WITH_RC4_128_MD5"},
		{0x0017, "TLS_DH_anon_EXPORT_WITH_RC4_40_MD5"},
		{0x0088, "TLS_DHE_RSA_WITH_CAMELLIA_256_CBC_SHA"},
		{0x00ff, "TLS_EMPTY_RENEGOTIATION_INFO_SCSV"},
		{0x1302, "TLS_AES_256_GCM_SHA384"},
		{0x5600, "TLS_FALLBACK_SCSV"},
		{0xc030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"},
		{0xcca8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"},
		{0xd005, "TLS_ECDHE_PSK_WITH_AES_128_CCM_SHA256"},
		{0x0a0a, "0x0a0a"}, // GREASE
		{0x001c, "0x001c"}, // reserved, never assigned
		{0xffff, "0xffff"},
	}
	for _, tt := range tests {
		if got := SuiteName(tt.id); got != tt.want {
			t.Errorf("SuiteName(%#04x) = %q, want %q", tt.id, got, tt.want)
		}
	}
}

func TestSuiteTableSortedAndUnique(t *testing.T) {
	names := map[string]bool{}
	for i, s := range suites {
		if i > 0 && suites[i-1].ID >= s.ID {
			t.Errorf("suites[%d] %#04x not after %#04x: binary search needs ascending IDs", i, s.ID, suites[i-1].ID)
		}
		if names[s.Name] {
			t.Errorf("duplicate name %s", s.Name)
		}
		names[s.Name] = true
		if got, ok := Suite(s.ID); !ok || got != s {
			t.Errorf("Suite(%#04x) = %+v, %v", s.ID, got, ok)
		}
	}
	if len(suites) < 350 {
		t.Errorf("only %d suites: the IANA registry has more than 340 assigned values", len(suites))
	}
}

// TestSuiteMatchesGo checks every suite Go's crypto/tls can name.
func TestSuiteMatchesGo(t *testing.T) {
	n := 0
	for id := 0; id <= 0xffff; id++ {
		goName := tls.CipherSuiteName(uint16(id))
		if strings.HasPrefix(goName, "0x") {
			continue
		}
		n++
		if got := SuiteName(uint16(id)); got != goName {
			t.Errorf("SuiteName(%#04x) = %q, crypto/tls says %q", id, got, goName)
		}
	}
	if n < 20 {
		t.Fatalf("crypto/tls named only %d suites", n)
	}
}

// TestSuiteMatchesZcrypto compares with zcrypto's larger table, which spells "anon" in
// capitals and carries names IANA never assigned (early ECC and GOST drafts in the ranges
// IANA reserved, vendor-private values, its own name for the renegotiation SCSV); those
// are the expected differences.
func TestSuiteMatchesZcrypto(t *testing.T) {
	private := map[uint16]bool{0xfefe: true, 0xfeff: true, 0xffe0: true, 0xffe1: true, 0xff80: true, 0xff81: true, 0xff82: true, 0xff83: true, 0xff85: true, 0x00ff: true}
	for id := uint16(0x0047); id <= 0x004c; id++ {
		private[id] = true
	}
	for id := uint16(0x0080); id <= 0x0083; id++ {
		private[id] = true
	}
	n := 0
	for id := 0; id <= 0xffff; id++ {
		zName := ztls.CipherSuiteID(uint16(id)).String()
		if zName == "" || strings.HasPrefix(zName, "0x") || strings.Contains(zName, "unknown") || private[uint16(id)] {
			continue
		}
		s, ok := Suite(uint16(id))
		if !ok {
			if strings.HasPrefix(zName, "TLS_") {
				t.Errorf("%#04x: zcrypto names it %s, table has nothing", id, zName)
			}
			continue
		}
		n++
		if !strings.EqualFold(s.Name, zName) {
			t.Errorf("%#04x: table %s, zcrypto %s", id, s.Name, zName)
		}
	}
	if n < 300 {
		t.Errorf("only %d suites compared with zcrypto", n)
	}
}

// TestSuiteAttributesFollowNames re-derives every attribute column from the suite name, so
// that a slip in the hand-checked table cannot hide.
func TestSuiteAttributesFollowNames(t *testing.T) {
	kex := map[string]struct {
		kx            string
		anon, exp, fs bool
	}{
		"NULL": {"NULL", false, false, false}, "RSA": {"RSA", false, false, false},
		"RSA_EXPORT": {"RSA", false, true, false}, "RSA_EXPORT1024": {"RSA", false, true, false},
		"DH_DSS": {"DH", false, false, false}, "DH_RSA": {"DH", false, false, false},
		"DH_DSS_EXPORT": {"DH", false, true, false}, "DH_RSA_EXPORT": {"DH", false, true, false},
		"DHE_DSS": {"DHE", false, false, true}, "DHE_RSA": {"DHE", false, false, true},
		"DHE_DSS_EXPORT": {"DHE", false, true, true}, "DHE_RSA_EXPORT": {"DHE", false, true, true},
		"DHE_DSS_EXPORT1024": {"DHE", false, true, true},
		"DH_anon":            {"DHE", true, false, true}, "DH_anon_EXPORT": {"DHE", true, true, true},
		"KRB5": {"KRB5", false, false, false}, "KRB5_EXPORT": {"KRB5", false, true, false},
		"PSK": {"PSK", false, false, false}, "DHE_PSK": {"DHE_PSK", false, false, true},
		"PSK_DHE": {"DHE_PSK", false, false, true}, "RSA_PSK": {"RSA_PSK", false, false, false},
		"ECDH_ECDSA": {"ECDH", false, false, false}, "ECDH_RSA": {"ECDH", false, false, false},
		"ECDHE_ECDSA": {"ECDHE", false, false, true}, "ECDHE_RSA": {"ECDHE", false, false, true},
		"ECDH_anon": {"ECDHE", true, false, true}, "ECDHE_PSK": {"ECDHE_PSK", false, false, true},
		"SRP_SHA": {"SRP", false, false, false}, "SRP_SHA_RSA": {"SRP", false, false, false},
		"SRP_SHA_DSS": {"SRP", false, false, false}, "ECCPWD": {"ECCPWD", false, false, true},
		"GOSTR341112_256": {"GOST", false, false, false},
	}
	// Longest prefixes first, so that AES_128_CCM_8 is not read as AES_128_CCM.
	ciphers := []struct {
		prefix, name string
		bits         int
		aead         bool
	}{
		{"AES_128_CCM_8", "AESCCM", 128, true}, {"AES_256_CCM_8", "AESCCM", 256, true},
		{"AES_128_CCM", "AESCCM", 128, true}, {"AES_256_CCM", "AESCCM", 256, true},
		{"AES_128_GCM", "AESGCM", 128, true}, {"AES_256_GCM", "AESGCM", 256, true},
		{"AES_128_CBC", "AES", 128, false}, {"AES_256_CBC", "AES", 256, false},
		{"CAMELLIA_128_GCM", "CAMELLIA", 128, true}, {"CAMELLIA_256_GCM", "CAMELLIA", 256, true},
		{"CAMELLIA_128_CBC", "CAMELLIA", 128, false}, {"CAMELLIA_256_CBC", "CAMELLIA", 256, false},
		{"ARIA_128_GCM", "ARIA", 128, true}, {"ARIA_256_GCM", "ARIA", 256, true},
		{"ARIA_128_CBC", "ARIA", 128, false}, {"ARIA_256_CBC", "ARIA", 256, false},
		{"CHACHA20_POLY1305", "CHACHA20", 256, true}, {"SM4_GCM", "SM4", 128, true}, {"SM4_CCM", "SM4", 128, true},
		{"AEGIS_256", "AEGIS", 256, true}, {"AEGIS_128L", "AEGIS", 128, true},
		{"3DES_EDE_CBC", "3DES", 168, false}, {"DES40_CBC", "DES", 40, false}, {"DES_CBC_40", "DES", 40, false},
		{"DES_CBC", "DES", 56, false}, {"IDEA_CBC", "IDEA", 128, false}, {"SEED_CBC", "SEED", 128, false},
		{"RC4_128", "RC4", 128, false}, {"RC4_56", "RC4", 56, false}, {"RC4_40", "RC4", 40, false},
		{"RC2_CBC_56", "RC2", 56, false}, {"RC2_CBC_40", "RC2", 40, false},
		{"KUZNYECHIK_MGM", "KUZNYECHIK", 256, true}, {"MAGMA_MGM", "MAGMA", 256, true},
		{"KUZNYECHIK_CTR_OMAC", "KUZNYECHIK", 256, false}, {"MAGMA_CTR_OMAC", "MAGMA", 256, false},
		{"28147_CNT_IMIT", "GOST28147", 256, false}, {"NULL", "NULL", 0, false},
	}
	for _, s := range suites {
		name := strings.TrimSuffix(strings.TrimPrefix(s.Name, "TLS_"), "_OLD")
		want := SuiteInfo{ID: s.ID, Name: s.Name}
		k, body, tls12 := strings.Cut(name, "_WITH_")
		switch {
		case s.Name == "TLS_EMPTY_RENEGOTIATION_INFO_SCSV" || s.Name == "TLS_FALLBACK_SCSV":
			want.KeyExchange, want.Cipher, want.MAC = "NULL", "NULL", "NULL"
		case name == "SHA256_SHA256" || name == "SHA384_SHA384":
			want.KeyExchange, want.Cipher, want.MAC, want.ForwardSecret = "TLS13", "NULL", name[:6], true
		default:
			if !tls12 {
				body = name
			}
			var rest string
			found := false
			for _, c := range ciphers {
				if body == c.prefix || strings.HasPrefix(body, c.prefix+"_") {
					want.Cipher, want.CipherBits = c.name, c.bits
					rest = strings.TrimPrefix(strings.TrimPrefix(body, c.prefix), "_")
					if c.aead {
						want.MAC = "AEAD"
					}
					found = true
					break
				}
			}
			if !found {
				t.Errorf("%s: no cipher recognised in the name", s.Name)
				continue
			}
			if want.MAC == "" {
				switch rest {
				case "MD5", "SHA256", "SHA384", "NULL":
					want.MAC = rest
				case "SHA":
					want.MAC = "SHA1"
				case "":
					want.MAC = "GOST"
				default:
					t.Errorf("%s: MAC %q not recognised", s.Name, rest)
				}
			}
			if !tls12 || (k == "GOSTR341112_256" && want.MAC == "AEAD") {
				want.KeyExchange, want.ForwardSecret = "TLS13", true
				break
			}
			kx, ok := kex[k]
			if !ok {
				t.Errorf("%s: key exchange %q not recognised", s.Name, k)
				continue
			}
			want.KeyExchange, want.Anonymous, want.Export, want.ForwardSecret = kx.kx, kx.anon, kx.exp, kx.fs
		}
		if s != want {
			t.Errorf("table:   %+v\nby name: %+v", s, want)
		}
	}
}

func TestGroupName(t *testing.T) {
	tests := []struct {
		id   uint16
		want string
	}{
		{23, "secp256r1"}, {24, "secp384r1"}, {29, "x25519"}, {30, "x448"},
		{256, "ffdhe2048"}, {4588, "X25519MLKEM768"}, {0x6399, "X25519Kyber768Draft00"},
		{0x2a2a, "GREASE"}, {0x1234, "0x1234"},
	}
	for _, tt := range tests {
		if got := GroupName(tt.id); got != tt.want {
			t.Errorf("GroupName(%d) = %q, want %q", tt.id, got, tt.want)
		}
	}
}

func TestSSLv2CipherName(t *testing.T) {
	tests := []struct {
		kind uint32
		want string
	}{
		{0x010080, "SSL2_RC4_128_WITH_MD5"},
		{0x0700c0, "SSL2_DES_192_EDE3_CBC_WITH_MD5"},
		{0x060040, "SSL2_DES_64_CBC_WITH_MD5"},
		{0x000004, "0x000004"},
	}
	for _, tt := range tests {
		if got := SSLv2CipherName(tt.kind); got != tt.want {
			t.Errorf("SSLv2CipherName(%#06x) = %q, want %q", tt.kind, got, tt.want)
		}
	}
}

// corpusDir finds ../shared/corpus beside the repository root, or skips (fails under CI).
func corpusDir(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			dir := filepath.Join(d, "..", "shared", "corpus")
			if _, err := os.Stat(filepath.Join(dir, "expected.json")); err == nil {
				return dir
			}
			break
		}
		if filepath.Dir(d) == d {
			break
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("corpus missing: ../shared/corpus/expected.json beside the repository root")
	}
	t.Skip("corpus missing: ../shared/corpus/expected.json beside the repository root")
	return ""
}

// TestSuiteNamesMatchCorpus checks the names tshark gave every suite in the corpus.
func TestSuiteNamesMatchCorpus(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(corpusDir(t), "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var files []struct {
		File string `json:"file"`
		TLS  []struct {
			Cipher     string `json:"cipher"`
			CipherName string `json:"cipher_name"`
			Version    string `json:"version"`
		} `json:"tls"`
	}
	if err := json.Unmarshal(raw, &files); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range files {
		for _, s := range f.TLS {
			var id uint16
			for _, c := range strings.TrimPrefix(s.Cipher, "0x") {
				id = id<<4 | uint16(strings.IndexRune("0123456789abcdef", c))
			}
			if got := SuiteName(id); got != s.CipherName {
				t.Errorf("%s: SuiteName(%s) = %q, tshark says %q", f.File, s.Cipher, got, s.CipherName)
			}
			known := false
			for _, v := range []uint16{0x0002, 0x0300, 0x0301, 0x0302, 0x0303, 0x0304} {
				known = known || VersionName(v) == s.Version
			}
			if !known {
				t.Errorf("%s: tshark's version %q is not a VersionName", f.File, s.Version)
			}
			n++
		}
	}
	if n == 0 {
		t.Fatal("no TLS sessions in expected.json")
	}
}

package observe

import (
	"slices"
	"strconv"
)

// This file is the TLS name registry that observers, rules and reports share, so that a
// suite or a version is named the same way everywhere (and the way Wireshark names it).

// VersionName names a TLS or SSL protocol version the way Wireshark writes it ("TLSv1.2"),
// or as "0x7f1c" when it is not one of them; 0 (not seen) gives "".
func VersionName(v uint16) string {
	switch v {
	case 0:
		return ""
	case 0x0002:
		return "SSLv2"
	case 0x0300:
		return "SSLv3"
	case 0x0301:
		return "TLSv1.0"
	case 0x0302:
		return "TLSv1.1"
	case 0x0303:
		return "TLSv1.2"
	case 0x0304:
		return "TLSv1.3"
	}
	return hex16(v)
}

// hex16 renders a code point the way the IANA registry writes unknown values, "0x00ff".
func hex16(v uint16) string {
	const digits = "0123456789abcdef"
	return string([]byte{'0', 'x', digits[v>>12], digits[v>>8&0xf], digits[v>>4&0xf], digits[v&0xf]})
}

// SuiteInfo describes a cipher suite in the terms that rules judge it by.
type SuiteInfo struct {
	ID   uint16
	Name string // IANA name
	// KeyExchange is one of "RSA", "DHE", "ECDHE", "DH", "ECDH", "PSK", "DHE_PSK",
	// "ECDHE_PSK", "RSA_PSK", "SRP", "KRB5", "NULL", "TLS13", and for the rare national or
	// password suites "ECCPWD" and "GOST". The anonymous DH_anon and ECDH_anon suites are
	// "DHE" and "ECDHE" with Anonymous set: their keys are ephemeral and their
	// ServerKeyExchange has the ephemeral format.
	KeyExchange string
	Anonymous   bool // no server authentication at all
	Export      bool // a deliberately weakened export suite (including the EXPORT1024 drafts)
	// Cipher is one of "NULL", "RC4", "RC2", "DES", "3DES", "IDEA", "AES", "AESGCM",
	// "AESCCM", "CHACHA20", "CAMELLIA", "ARIA", "SEED", "SM4", and for the rare suites
	// "AEGIS", "KUZNYECHIK", "MAGMA", "GOST28147".
	Cipher     string
	CipherBits int // key size in bits (3DES counts 168, export ciphers their effective size)
	// MAC is "MD5", "SHA1", "SHA256", "SHA384", "AEAD", "NULL" (and "GOST" for the GOST
	// CTR/CNT suites); for AEAD suites the hash in the name is only the PRF.
	MAC           string
	ForwardSecret bool // the session key does not depend on a long-term key
}

// Suite returns what is known about a cipher suite; ok is false for unassigned values
// (and GREASE).
func Suite(id uint16) (SuiteInfo, bool) {
	i, ok := slices.BinarySearchFunc(suites[:], id, func(s SuiteInfo, id uint16) int { return int(s.ID) - int(id) })
	if !ok {
		return SuiteInfo{}, false
	}
	return suites[i], true
}

// SuiteName returns a cipher suite's IANA name, or "0x00ff"-style hex when unknown.
func SuiteName(id uint16) string {
	if s, ok := Suite(id); ok {
		return s.Name
	}
	return hex16(id)
}

// GroupName names a supported_groups (formerly elliptic_curves) code point, or "0x1234"
// when unknown; GREASE values are named "GREASE".
func GroupName(id uint16) string {
	if n, ok := groupNames[id]; ok {
		return n
	}
	if id&0x0f0f == 0x0a0a && id>>8 == id&0xff {
		return "GREASE"
	}
	return hex16(id)
}

// SSLv2CipherName names an SSLv2 cipher kind (the 3-byte CIPHER-SPEC of an SSLv2 hello),
// or "0x010080"-style hex when unknown.
func SSLv2CipherName(kind uint32) string {
	switch kind {
	case 0x010080:
		return "SSL2_RC4_128_WITH_MD5"
	case 0x020080:
		return "SSL2_RC4_128_EXPORT40_WITH_MD5"
	case 0x030080:
		return "SSL2_RC2_128_CBC_WITH_MD5"
	case 0x040080:
		return "SSL2_RC2_128_CBC_EXPORT40_WITH_MD5"
	case 0x050080:
		return "SSL2_IDEA_128_CBC_WITH_MD5"
	case 0x060040:
		return "SSL2_DES_64_CBC_WITH_MD5"
	case 0x0700c0:
		return "SSL2_DES_192_EDE3_CBC_WITH_MD5"
	case 0x080080:
		return "SSL2_RC4_64_WITH_MD5"
	}
	s := strconv.FormatUint(uint64(kind&0xffffff), 16)
	for len(s) < 6 {
		s = "0" + s
	}
	return "0x" + s
}

// groupNames is the IANA TLS Supported Groups registry, with the Kyber drafts that
// browsers deployed before ML-KEM was standardised.
var groupNames = map[uint16]string{
	1: "sect163k1", 2: "sect163r1", 3: "sect163r2", 4: "sect193r1", 5: "sect193r2",
	6: "sect233k1", 7: "sect233r1", 8: "sect239k1", 9: "sect283k1", 10: "sect283r1",
	11: "sect409k1", 12: "sect409r1", 13: "sect571k1", 14: "sect571r1",
	15: "secp160k1", 16: "secp160r1", 17: "secp160r2", 18: "secp192k1", 19: "secp192r1",
	20: "secp224k1", 21: "secp224r1", 22: "secp256k1", 23: "secp256r1", 24: "secp384r1",
	25: "secp521r1", 26: "brainpoolP256r1", 27: "brainpoolP384r1", 28: "brainpoolP512r1",
	29: "x25519", 30: "x448", 31: "brainpoolP256r1tls13", 32: "brainpoolP384r1tls13",
	33: "brainpoolP512r1tls13", 34: "GC256A", 35: "GC256B", 36: "GC256C", 37: "GC256D",
	38: "GC512A", 39: "GC512B", 40: "GC512C", 41: "curveSM2",
	256: "ffdhe2048", 257: "ffdhe3072", 258: "ffdhe4096", 259: "ffdhe6144", 260: "ffdhe8192",
	512: "MLKEM512", 513: "MLKEM768", 514: "MLKEM1024",
	4587: "SecP256r1MLKEM768", 4588: "X25519MLKEM768", 4589: "SecP384r1MLKEM1024",
	0x6399: "X25519Kyber768Draft00", 0x639a: "SecP256r1Kyber768Draft00",
	0xff01: "arbitrary_explicit_prime_curves", 0xff02: "arbitrary_explicit_char2_curves",
}

// suites is the IANA TLS Cipher Suites registry (every assigned value), sorted by ID for
// binary search, plus a few unassigned values that deployed software used. The attribute
// columns follow from each name; a test re-derives them from the names.
var suites = [...]SuiteInfo{
	{0x0000, "TLS_NULL_WITH_NULL_NULL", "NULL", false, false, "NULL", 0, "NULL", false},
	{0x0001, "TLS_RSA_WITH_NULL_MD5", "RSA", false, false, "NULL", 0, "MD5", false},
	{0x0002, "TLS_RSA_WITH_NULL_SHA", "RSA", false, false, "NULL", 0, "SHA1", false},
	{0x0003, "TLS_RSA_EXPORT_WITH_RC4_40_MD5", "RSA", false, true, "RC4", 40, "MD5", false},
	{0x0004, "TLS_RSA_WITH_RC4_128_MD5", "RSA", false, false, "RC4", 128, "MD5", false},
	{0x0005, "TLS_RSA_WITH_RC4_128_SHA", "RSA", false, false, "RC4", 128, "SHA1", false},
	{0x0006, "TLS_RSA_EXPORT_WITH_RC2_CBC_40_MD5", "RSA", false, true, "RC2", 40, "MD5", false},
	{0x0007, "TLS_RSA_WITH_IDEA_CBC_SHA", "RSA", false, false, "IDEA", 128, "SHA1", false},
	{0x0008, "TLS_RSA_EXPORT_WITH_DES40_CBC_SHA", "RSA", false, true, "DES", 40, "SHA1", false},
	{0x0009, "TLS_RSA_WITH_DES_CBC_SHA", "RSA", false, false, "DES", 56, "SHA1", false},
	{0x000a, "TLS_RSA_WITH_3DES_EDE_CBC_SHA", "RSA", false, false, "3DES", 168, "SHA1", false},
	{0x000b, "TLS_DH_DSS_EXPORT_WITH_DES40_CBC_SHA", "DH", false, true, "DES", 40, "SHA1", false},
	{0x000c, "TLS_DH_DSS_WITH_DES_CBC_SHA", "DH", false, false, "DES", 56, "SHA1", false},
	{0x000d, "TLS_DH_DSS_WITH_3DES_EDE_CBC_SHA", "DH", false, false, "3DES", 168, "SHA1", false},
	{0x000e, "TLS_DH_RSA_EXPORT_WITH_DES40_CBC_SHA", "DH", false, true, "DES", 40, "SHA1", false},
	{0x000f, "TLS_DH_RSA_WITH_DES_CBC_SHA", "DH", false, false, "DES", 56, "SHA1", false},
	{0x0010, "TLS_DH_RSA_WITH_3DES_EDE_CBC_SHA", "DH", false, false, "3DES", 168, "SHA1", false},
	{0x0011, "TLS_DHE_DSS_EXPORT_WITH_DES40_CBC_SHA", "DHE", false, true, "DES", 40, "SHA1", true},
	{0x0012, "TLS_DHE_DSS_WITH_DES_CBC_SHA", "DHE", false, false, "DES", 56, "SHA1", true},
	{0x0013, "TLS_DHE_DSS_WITH_3DES_EDE_CBC_SHA", "DHE", false, false, "3DES", 168, "SHA1", true},
	{0x0014, "TLS_DHE_RSA_EXPORT_WITH_DES40_CBC_SHA", "DHE", false, true, "DES", 40, "SHA1", true},
	{0x0015, "TLS_DHE_RSA_WITH_DES_CBC_SHA", "DHE", false, false, "DES", 56, "SHA1", true},
	{0x0016, "TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA", "DHE", false, false, "3DES", 168, "SHA1", true},
	{0x0017, "TLS_DH_anon_EXPORT_WITH_RC4_40_MD5", "DHE", true, true, "RC4", 40, "MD5", true},
	{0x0018, "TLS_DH_anon_WITH_RC4_128_MD5", "DHE", true, false, "RC4", 128, "MD5", true},
	{0x0019, "TLS_DH_anon_EXPORT_WITH_DES40_CBC_SHA", "DHE", true, true, "DES", 40, "SHA1", true},
	{0x001a, "TLS_DH_anon_WITH_DES_CBC_SHA", "DHE", true, false, "DES", 56, "SHA1", true},
	{0x001b, "TLS_DH_anon_WITH_3DES_EDE_CBC_SHA", "DHE", true, false, "3DES", 168, "SHA1", true},
	{0x001e, "TLS_KRB5_WITH_DES_CBC_SHA", "KRB5", false, false, "DES", 56, "SHA1", false},
	{0x001f, "TLS_KRB5_WITH_3DES_EDE_CBC_SHA", "KRB5", false, false, "3DES", 168, "SHA1", false},
	{0x0020, "TLS_KRB5_WITH_RC4_128_SHA", "KRB5", false, false, "RC4", 128, "SHA1", false},
	{0x0021, "TLS_KRB5_WITH_IDEA_CBC_SHA", "KRB5", false, false, "IDEA", 128, "SHA1", false},
	{0x0022, "TLS_KRB5_WITH_DES_CBC_MD5", "KRB5", false, false, "DES", 56, "MD5", false},
	{0x0023, "TLS_KRB5_WITH_3DES_EDE_CBC_MD5", "KRB5", false, false, "3DES", 168, "MD5", false},
	{0x0024, "TLS_KRB5_WITH_RC4_128_MD5", "KRB5", false, false, "RC4", 128, "MD5", false},
	{0x0025, "TLS_KRB5_WITH_IDEA_CBC_MD5", "KRB5", false, false, "IDEA", 128, "MD5", false},
	{0x0026, "TLS_KRB5_EXPORT_WITH_DES_CBC_40_SHA", "KRB5", false, true, "DES", 40, "SHA1", false},
	{0x0027, "TLS_KRB5_EXPORT_WITH_RC2_CBC_40_SHA", "KRB5", false, true, "RC2", 40, "SHA1", false},
	{0x0028, "TLS_KRB5_EXPORT_WITH_RC4_40_SHA", "KRB5", false, true, "RC4", 40, "SHA1", false},
	{0x0029, "TLS_KRB5_EXPORT_WITH_DES_CBC_40_MD5", "KRB5", false, true, "DES", 40, "MD5", false},
	{0x002a, "TLS_KRB5_EXPORT_WITH_RC2_CBC_40_MD5", "KRB5", false, true, "RC2", 40, "MD5", false},
	{0x002b, "TLS_KRB5_EXPORT_WITH_RC4_40_MD5", "KRB5", false, true, "RC4", 40, "MD5", false},
	{0x002c, "TLS_PSK_WITH_NULL_SHA", "PSK", false, false, "NULL", 0, "SHA1", false},
	{0x002d, "TLS_DHE_PSK_WITH_NULL_SHA", "DHE_PSK", false, false, "NULL", 0, "SHA1", true},
	{0x002e, "TLS_RSA_PSK_WITH_NULL_SHA", "RSA_PSK", false, false, "NULL", 0, "SHA1", false},
	{0x002f, "TLS_RSA_WITH_AES_128_CBC_SHA", "RSA", false, false, "AES", 128, "SHA1", false},
	{0x0030, "TLS_DH_DSS_WITH_AES_128_CBC_SHA", "DH", false, false, "AES", 128, "SHA1", false},
	{0x0031, "TLS_DH_RSA_WITH_AES_128_CBC_SHA", "DH", false, false, "AES", 128, "SHA1", false},
	{0x0032, "TLS_DHE_DSS_WITH_AES_128_CBC_SHA", "DHE", false, false, "AES", 128, "SHA1", true},
	{0x0033, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA", "DHE", false, false, "AES", 128, "SHA1", true},
	{0x0034, "TLS_DH_anon_WITH_AES_128_CBC_SHA", "DHE", true, false, "AES", 128, "SHA1", true},
	{0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA", "RSA", false, false, "AES", 256, "SHA1", false},
	{0x0036, "TLS_DH_DSS_WITH_AES_256_CBC_SHA", "DH", false, false, "AES", 256, "SHA1", false},
	{0x0037, "TLS_DH_RSA_WITH_AES_256_CBC_SHA", "DH", false, false, "AES", 256, "SHA1", false},
	{0x0038, "TLS_DHE_DSS_WITH_AES_256_CBC_SHA", "DHE", false, false, "AES", 256, "SHA1", true},
	{0x0039, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA", "DHE", false, false, "AES", 256, "SHA1", true},
	{0x003a, "TLS_DH_anon_WITH_AES_256_CBC_SHA", "DHE", true, false, "AES", 256, "SHA1", true},
	{0x003b, "TLS_RSA_WITH_NULL_SHA256", "RSA", false, false, "NULL", 0, "SHA256", false},
	{0x003c, "TLS_RSA_WITH_AES_128_CBC_SHA256", "RSA", false, false, "AES", 128, "SHA256", false},
	{0x003d, "TLS_RSA_WITH_AES_256_CBC_SHA256", "RSA", false, false, "AES", 256, "SHA256", false},
	{0x003e, "TLS_DH_DSS_WITH_AES_128_CBC_SHA256", "DH", false, false, "AES", 128, "SHA256", false},
	{0x003f, "TLS_DH_RSA_WITH_AES_128_CBC_SHA256", "DH", false, false, "AES", 128, "SHA256", false},
	{0x0040, "TLS_DHE_DSS_WITH_AES_128_CBC_SHA256", "DHE", false, false, "AES", 128, "SHA256", true},
	{0x0041, "TLS_RSA_WITH_CAMELLIA_128_CBC_SHA", "RSA", false, false, "CAMELLIA", 128, "SHA1", false},
	{0x0042, "TLS_DH_DSS_WITH_CAMELLIA_128_CBC_SHA", "DH", false, false, "CAMELLIA", 128, "SHA1", false},
	{0x0043, "TLS_DH_RSA_WITH_CAMELLIA_128_CBC_SHA", "DH", false, false, "CAMELLIA", 128, "SHA1", false},
	{0x0044, "TLS_DHE_DSS_WITH_CAMELLIA_128_CBC_SHA", "DHE", false, false, "CAMELLIA", 128, "SHA1", true},
	{0x0045, "TLS_DHE_RSA_WITH_CAMELLIA_128_CBC_SHA", "DHE", false, false, "CAMELLIA", 128, "SHA1", true},
	{0x0046, "TLS_DH_anon_WITH_CAMELLIA_128_CBC_SHA", "DHE", true, false, "CAMELLIA", 128, "SHA1", true},
	{0x0060, "TLS_RSA_EXPORT1024_WITH_RC4_56_MD5", "RSA", false, true, "RC4", 56, "MD5", false},      // not IANA-assigned; seen in deployed software
	{0x0061, "TLS_RSA_EXPORT1024_WITH_RC2_CBC_56_MD5", "RSA", false, true, "RC2", 56, "MD5", false},  // not IANA-assigned; seen in deployed software
	{0x0062, "TLS_RSA_EXPORT1024_WITH_DES_CBC_SHA", "RSA", false, true, "DES", 56, "SHA1", false},    // not IANA-assigned; seen in deployed software
	{0x0063, "TLS_DHE_DSS_EXPORT1024_WITH_DES_CBC_SHA", "DHE", false, true, "DES", 56, "SHA1", true}, // not IANA-assigned; seen in deployed software
	{0x0064, "TLS_RSA_EXPORT1024_WITH_RC4_56_SHA", "RSA", false, true, "RC4", 56, "SHA1", false},     // not IANA-assigned; seen in deployed software
	{0x0065, "TLS_DHE_DSS_EXPORT1024_WITH_RC4_56_SHA", "DHE", false, true, "RC4", 56, "SHA1", true},  // not IANA-assigned; seen in deployed software
	{0x0066, "TLS_DHE_DSS_WITH_RC4_128_SHA", "DHE", false, false, "RC4", 128, "SHA1", true},          // not IANA-assigned; seen in deployed software
	{0x0067, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256", "DHE", false, false, "AES", 128, "SHA256", true},
	{0x0068, "TLS_DH_DSS_WITH_AES_256_CBC_SHA256", "DH", false, false, "AES", 256, "SHA256", false},
	{0x0069, "TLS_DH_RSA_WITH_AES_256_CBC_SHA256", "DH", false, false, "AES", 256, "SHA256", false},
	{0x006a, "TLS_DHE_DSS_WITH_AES_256_CBC_SHA256", "DHE", false, false, "AES", 256, "SHA256", true},
	{0x006b, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256", "DHE", false, false, "AES", 256, "SHA256", true},
	{0x006c, "TLS_DH_anon_WITH_AES_128_CBC_SHA256", "DHE", true, false, "AES", 128, "SHA256", true},
	{0x006d, "TLS_DH_anon_WITH_AES_256_CBC_SHA256", "DHE", true, false, "AES", 256, "SHA256", true},
	{0x0084, "TLS_RSA_WITH_CAMELLIA_256_CBC_SHA", "RSA", false, false, "CAMELLIA", 256, "SHA1", false},
	{0x0085, "TLS_DH_DSS_WITH_CAMELLIA_256_CBC_SHA", "DH", false, false, "CAMELLIA", 256, "SHA1", false},
	{0x0086, "TLS_DH_RSA_WITH_CAMELLIA_256_CBC_SHA", "DH", false, false, "CAMELLIA", 256, "SHA1", false},
	{0x0087, "TLS_DHE_DSS_WITH_CAMELLIA_256_CBC_SHA", "DHE", false, false, "CAMELLIA", 256, "SHA1", true},
	{0x0088, "TLS_DHE_RSA_WITH_CAMELLIA_256_CBC_SHA", "DHE", false, false, "CAMELLIA", 256, "SHA1", true},
	{0x0089, "TLS_DH_anon_WITH_CAMELLIA_256_CBC_SHA", "DHE", true, false, "CAMELLIA", 256, "SHA1", true},
	{0x008a, "TLS_PSK_WITH_RC4_128_SHA", "PSK", false, false, "RC4", 128, "SHA1", false},
	{0x008b, "TLS_PSK_WITH_3DES_EDE_CBC_SHA", "PSK", false, false, "3DES", 168, "SHA1", false},
	{0x008c, "TLS_PSK_WITH_AES_128_CBC_SHA", "PSK", false, false, "AES", 128, "SHA1", false},
	{0x008d, "TLS_PSK_WITH_AES_256_CBC_SHA", "PSK", false, false, "AES", 256, "SHA1", false},
	{0x008e, "TLS_DHE_PSK_WITH_RC4_128_SHA", "DHE_PSK", false, false, "RC4", 128, "SHA1", true},
	{0x008f, "TLS_DHE_PSK_WITH_3DES_EDE_CBC_SHA", "DHE_PSK", false, false, "3DES", 168, "SHA1", true},
	{0x0090, "TLS_DHE_PSK_WITH_AES_128_CBC_SHA", "DHE_PSK", false, false, "AES", 128, "SHA1", true},
	{0x0091, "TLS_DHE_PSK_WITH_AES_256_CBC_SHA", "DHE_PSK", false, false, "AES", 256, "SHA1", true},
	{0x0092, "TLS_RSA_PSK_WITH_RC4_128_SHA", "RSA_PSK", false, false, "RC4", 128, "SHA1", false},
	{0x0093, "TLS_RSA_PSK_WITH_3DES_EDE_CBC_SHA", "RSA_PSK", false, false, "3DES", 168, "SHA1", false},
	{0x0094, "TLS_RSA_PSK_WITH_AES_128_CBC_SHA", "RSA_PSK", false, false, "AES", 128, "SHA1", false},
	{0x0095, "TLS_RSA_PSK_WITH_AES_256_CBC_SHA", "RSA_PSK", false, false, "AES", 256, "SHA1", false},
	{0x0096, "TLS_RSA_WITH_SEED_CBC_SHA", "RSA", false, false, "SEED", 128, "SHA1", false},
	{0x0097, "TLS_DH_DSS_WITH_SEED_CBC_SHA", "DH", false, false, "SEED", 128, "SHA1", false},
	{0x0098, "TLS_DH_RSA_WITH_SEED_CBC_SHA", "DH", false, false, "SEED", 128, "SHA1", false},
	{0x0099, "TLS_DHE_DSS_WITH_SEED_CBC_SHA", "DHE", false, false, "SEED", 128, "SHA1", true},
	{0x009a, "TLS_DHE_RSA_WITH_SEED_CBC_SHA", "DHE", false, false, "SEED", 128, "SHA1", true},
	{0x009b, "TLS_DH_anon_WITH_SEED_CBC_SHA", "DHE", true, false, "SEED", 128, "SHA1", true},
	{0x009c, "TLS_RSA_WITH_AES_128_GCM_SHA256", "RSA", false, false, "AESGCM", 128, "AEAD", false},
	{0x009d, "TLS_RSA_WITH_AES_256_GCM_SHA384", "RSA", false, false, "AESGCM", 256, "AEAD", false},
	{0x009e, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", "DHE", false, false, "AESGCM", 128, "AEAD", true},
	{0x009f, "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384", "DHE", false, false, "AESGCM", 256, "AEAD", true},
	{0x00a0, "TLS_DH_RSA_WITH_AES_128_GCM_SHA256", "DH", false, false, "AESGCM", 128, "AEAD", false},
	{0x00a1, "TLS_DH_RSA_WITH_AES_256_GCM_SHA384", "DH", false, false, "AESGCM", 256, "AEAD", false},
	{0x00a2, "TLS_DHE_DSS_WITH_AES_128_GCM_SHA256", "DHE", false, false, "AESGCM", 128, "AEAD", true},
	{0x00a3, "TLS_DHE_DSS_WITH_AES_256_GCM_SHA384", "DHE", false, false, "AESGCM", 256, "AEAD", true},
	{0x00a4, "TLS_DH_DSS_WITH_AES_128_GCM_SHA256", "DH", false, false, "AESGCM", 128, "AEAD", false},
	{0x00a5, "TLS_DH_DSS_WITH_AES_256_GCM_SHA384", "DH", false, false, "AESGCM", 256, "AEAD", false},
	{0x00a6, "TLS_DH_anon_WITH_AES_128_GCM_SHA256", "DHE", true, false, "AESGCM", 128, "AEAD", true},
	{0x00a7, "TLS_DH_anon_WITH_AES_256_GCM_SHA384", "DHE", true, false, "AESGCM", 256, "AEAD", true},
	{0x00a8, "TLS_PSK_WITH_AES_128_GCM_SHA256", "PSK", false, false, "AESGCM", 128, "AEAD", false},
	{0x00a9, "TLS_PSK_WITH_AES_256_GCM_SHA384", "PSK", false, false, "AESGCM", 256, "AEAD", false},
	{0x00aa, "TLS_DHE_PSK_WITH_AES_128_GCM_SHA256", "DHE_PSK", false, false, "AESGCM", 128, "AEAD", true},
	{0x00ab, "TLS_DHE_PSK_WITH_AES_256_GCM_SHA384", "DHE_PSK", false, false, "AESGCM", 256, "AEAD", true},
	{0x00ac, "TLS_RSA_PSK_WITH_AES_128_GCM_SHA256", "RSA_PSK", false, false, "AESGCM", 128, "AEAD", false},
	{0x00ad, "TLS_RSA_PSK_WITH_AES_256_GCM_SHA384", "RSA_PSK", false, false, "AESGCM", 256, "AEAD", false},
	{0x00ae, "TLS_PSK_WITH_AES_128_CBC_SHA256", "PSK", false, false, "AES", 128, "SHA256", false},
	{0x00af, "TLS_PSK_WITH_AES_256_CBC_SHA384", "PSK", false, false, "AES", 256, "SHA384", false},
	{0x00b0, "TLS_PSK_WITH_NULL_SHA256", "PSK", false, false, "NULL", 0, "SHA256", false},
	{0x00b1, "TLS_PSK_WITH_NULL_SHA384", "PSK", false, false, "NULL", 0, "SHA384", false},
	{0x00b2, "TLS_DHE_PSK_WITH_AES_128_CBC_SHA256", "DHE_PSK", false, false, "AES", 128, "SHA256", true},
	{0x00b3, "TLS_DHE_PSK_WITH_AES_256_CBC_SHA384", "DHE_PSK", false, false, "AES", 256, "SHA384", true},
	{0x00b4, "TLS_DHE_PSK_WITH_NULL_SHA256", "DHE_PSK", false, false, "NULL", 0, "SHA256", true},
	{0x00b5, "TLS_DHE_PSK_WITH_NULL_SHA384", "DHE_PSK", false, false, "NULL", 0, "SHA384", true},
	{0x00b6, "TLS_RSA_PSK_WITH_AES_128_CBC_SHA256", "RSA_PSK", false, false, "AES", 128, "SHA256", false},
	{0x00b7, "TLS_RSA_PSK_WITH_AES_256_CBC_SHA384", "RSA_PSK", false, false, "AES", 256, "SHA384", false},
	{0x00b8, "TLS_RSA_PSK_WITH_NULL_SHA256", "RSA_PSK", false, false, "NULL", 0, "SHA256", false},
	{0x00b9, "TLS_RSA_PSK_WITH_NULL_SHA384", "RSA_PSK", false, false, "NULL", 0, "SHA384", false},
	{0x00ba, "TLS_RSA_WITH_CAMELLIA_128_CBC_SHA256", "RSA", false, false, "CAMELLIA", 128, "SHA256", false},
	{0x00bb, "TLS_DH_DSS_WITH_CAMELLIA_128_CBC_SHA256", "DH", false, false, "CAMELLIA", 128, "SHA256", false},
	{0x00bc, "TLS_DH_RSA_WITH_CAMELLIA_128_CBC_SHA256", "DH", false, false, "CAMELLIA", 128, "SHA256", false},
	{0x00bd, "TLS_DHE_DSS_WITH_CAMELLIA_128_CBC_SHA256", "DHE", false, false, "CAMELLIA", 128, "SHA256", true},
	{0x00be, "TLS_DHE_RSA_WITH_CAMELLIA_128_CBC_SHA256", "DHE", false, false, "CAMELLIA", 128, "SHA256", true},
	{0x00bf, "TLS_DH_anon_WITH_CAMELLIA_128_CBC_SHA256", "DHE", true, false, "CAMELLIA", 128, "SHA256", true},
	{0x00c0, "TLS_RSA_WITH_CAMELLIA_256_CBC_SHA256", "RSA", false, false, "CAMELLIA", 256, "SHA256", false},
	{0x00c1, "TLS_DH_DSS_WITH_CAMELLIA_256_CBC_SHA256", "DH", false, false, "CAMELLIA", 256, "SHA256", false},
	{0x00c2, "TLS_DH_RSA_WITH_CAMELLIA_256_CBC_SHA256", "DH", false, false, "CAMELLIA", 256, "SHA256", false},
	{0x00c3, "TLS_DHE_DSS_WITH_CAMELLIA_256_CBC_SHA256", "DHE", false, false, "CAMELLIA", 256, "SHA256", true},
	{0x00c4, "TLS_DHE_RSA_WITH_CAMELLIA_256_CBC_SHA256", "DHE", false, false, "CAMELLIA", 256, "SHA256", true},
	{0x00c5, "TLS_DH_anon_WITH_CAMELLIA_256_CBC_SHA256", "DHE", true, false, "CAMELLIA", 256, "SHA256", true},
	{0x00c6, "TLS_SM4_GCM_SM3", "TLS13", false, false, "SM4", 128, "AEAD", true},
	{0x00c7, "TLS_SM4_CCM_SM3", "TLS13", false, false, "SM4", 128, "AEAD", true},
	{0x00ff, "TLS_EMPTY_RENEGOTIATION_INFO_SCSV", "NULL", false, false, "NULL", 0, "NULL", false},
	{0x1301, "TLS_AES_128_GCM_SHA256", "TLS13", false, false, "AESGCM", 128, "AEAD", true},
	{0x1302, "TLS_AES_256_GCM_SHA384", "TLS13", false, false, "AESGCM", 256, "AEAD", true},
	{0x1303, "TLS_CHACHA20_POLY1305_SHA256", "TLS13", false, false, "CHACHA20", 256, "AEAD", true},
	{0x1304, "TLS_AES_128_CCM_SHA256", "TLS13", false, false, "AESCCM", 128, "AEAD", true},
	{0x1305, "TLS_AES_128_CCM_8_SHA256", "TLS13", false, false, "AESCCM", 128, "AEAD", true},
	{0x1306, "TLS_AEGIS_256_SHA512", "TLS13", false, false, "AEGIS", 256, "AEAD", true},
	{0x1307, "TLS_AEGIS_128L_SHA256", "TLS13", false, false, "AEGIS", 128, "AEAD", true},
	{0x5600, "TLS_FALLBACK_SCSV", "NULL", false, false, "NULL", 0, "NULL", false},
	{0xc001, "TLS_ECDH_ECDSA_WITH_NULL_SHA", "ECDH", false, false, "NULL", 0, "SHA1", false},
	{0xc002, "TLS_ECDH_ECDSA_WITH_RC4_128_SHA", "ECDH", false, false, "RC4", 128, "SHA1", false},
	{0xc003, "TLS_ECDH_ECDSA_WITH_3DES_EDE_CBC_SHA", "ECDH", false, false, "3DES", 168, "SHA1", false},
	{0xc004, "TLS_ECDH_ECDSA_WITH_AES_128_CBC_SHA", "ECDH", false, false, "AES", 128, "SHA1", false},
	{0xc005, "TLS_ECDH_ECDSA_WITH_AES_256_CBC_SHA", "ECDH", false, false, "AES", 256, "SHA1", false},
	{0xc006, "TLS_ECDHE_ECDSA_WITH_NULL_SHA", "ECDHE", false, false, "NULL", 0, "SHA1", true},
	{0xc007, "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA", "ECDHE", false, false, "RC4", 128, "SHA1", true},
	{0xc008, "TLS_ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA", "ECDHE", false, false, "3DES", 168, "SHA1", true},
	{0xc009, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "ECDHE", false, false, "AES", 128, "SHA1", true},
	{0xc00a, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", "ECDHE", false, false, "AES", 256, "SHA1", true},
	{0xc00b, "TLS_ECDH_RSA_WITH_NULL_SHA", "ECDH", false, false, "NULL", 0, "SHA1", false},
	{0xc00c, "TLS_ECDH_RSA_WITH_RC4_128_SHA", "ECDH", false, false, "RC4", 128, "SHA1", false},
	{0xc00d, "TLS_ECDH_RSA_WITH_3DES_EDE_CBC_SHA", "ECDH", false, false, "3DES", 168, "SHA1", false},
	{0xc00e, "TLS_ECDH_RSA_WITH_AES_128_CBC_SHA", "ECDH", false, false, "AES", 128, "SHA1", false},
	{0xc00f, "TLS_ECDH_RSA_WITH_AES_256_CBC_SHA", "ECDH", false, false, "AES", 256, "SHA1", false},
	{0xc010, "TLS_ECDHE_RSA_WITH_NULL_SHA", "ECDHE", false, false, "NULL", 0, "SHA1", true},
	{0xc011, "TLS_ECDHE_RSA_WITH_RC4_128_SHA", "ECDHE", false, false, "RC4", 128, "SHA1", true},
	{0xc012, "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA", "ECDHE", false, false, "3DES", 168, "SHA1", true},
	{0xc013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "ECDHE", false, false, "AES", 128, "SHA1", true},
	{0xc014, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", "ECDHE", false, false, "AES", 256, "SHA1", true},
	{0xc015, "TLS_ECDH_anon_WITH_NULL_SHA", "ECDHE", true, false, "NULL", 0, "SHA1", true},
	{0xc016, "TLS_ECDH_anon_WITH_RC4_128_SHA", "ECDHE", true, false, "RC4", 128, "SHA1", true},
	{0xc017, "TLS_ECDH_anon_WITH_3DES_EDE_CBC_SHA", "ECDHE", true, false, "3DES", 168, "SHA1", true},
	{0xc018, "TLS_ECDH_anon_WITH_AES_128_CBC_SHA", "ECDHE", true, false, "AES", 128, "SHA1", true},
	{0xc019, "TLS_ECDH_anon_WITH_AES_256_CBC_SHA", "ECDHE", true, false, "AES", 256, "SHA1", true},
	{0xc01a, "TLS_SRP_SHA_WITH_3DES_EDE_CBC_SHA", "SRP", false, false, "3DES", 168, "SHA1", false},
	{0xc01b, "TLS_SRP_SHA_RSA_WITH_3DES_EDE_CBC_SHA", "SRP", false, false, "3DES", 168, "SHA1", false},
	{0xc01c, "TLS_SRP_SHA_DSS_WITH_3DES_EDE_CBC_SHA", "SRP", false, false, "3DES", 168, "SHA1", false},
	{0xc01d, "TLS_SRP_SHA_WITH_AES_128_CBC_SHA", "SRP", false, false, "AES", 128, "SHA1", false},
	{0xc01e, "TLS_SRP_SHA_RSA_WITH_AES_128_CBC_SHA", "SRP", false, false, "AES", 128, "SHA1", false},
	{0xc01f, "TLS_SRP_SHA_DSS_WITH_AES_128_CBC_SHA", "SRP", false, false, "AES", 128, "SHA1", false},
	{0xc020, "TLS_SRP_SHA_WITH_AES_256_CBC_SHA", "SRP", false, false, "AES", 256, "SHA1", false},
	{0xc021, "TLS_SRP_SHA_RSA_WITH_AES_256_CBC_SHA", "SRP", false, false, "AES", 256, "SHA1", false},
	{0xc022, "TLS_SRP_SHA_DSS_WITH_AES_256_CBC_SHA", "SRP", false, false, "AES", 256, "SHA1", false},
	{0xc023, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", "ECDHE", false, false, "AES", 128, "SHA256", true},
	{0xc024, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384", "ECDHE", false, false, "AES", 256, "SHA384", true},
	{0xc025, "TLS_ECDH_ECDSA_WITH_AES_128_CBC_SHA256", "ECDH", false, false, "AES", 128, "SHA256", false},
	{0xc026, "TLS_ECDH_ECDSA_WITH_AES_256_CBC_SHA384", "ECDH", false, false, "AES", 256, "SHA384", false},
	{0xc027, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", "ECDHE", false, false, "AES", 128, "SHA256", true},
	{0xc028, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384", "ECDHE", false, false, "AES", 256, "SHA384", true},
	{0xc029, "TLS_ECDH_RSA_WITH_AES_128_CBC_SHA256", "ECDH", false, false, "AES", 128, "SHA256", false},
	{0xc02a, "TLS_ECDH_RSA_WITH_AES_256_CBC_SHA384", "ECDH", false, false, "AES", 256, "SHA384", false},
	{0xc02b, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "ECDHE", false, false, "AESGCM", 128, "AEAD", true},
	{0xc02c, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "ECDHE", false, false, "AESGCM", 256, "AEAD", true},
	{0xc02d, "TLS_ECDH_ECDSA_WITH_AES_128_GCM_SHA256", "ECDH", false, false, "AESGCM", 128, "AEAD", false},
	{0xc02e, "TLS_ECDH_ECDSA_WITH_AES_256_GCM_SHA384", "ECDH", false, false, "AESGCM", 256, "AEAD", false},
	{0xc02f, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ECDHE", false, false, "AESGCM", 128, "AEAD", true},
	{0xc030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "ECDHE", false, false, "AESGCM", 256, "AEAD", true},
	{0xc031, "TLS_ECDH_RSA_WITH_AES_128_GCM_SHA256", "ECDH", false, false, "AESGCM", 128, "AEAD", false},
	{0xc032, "TLS_ECDH_RSA_WITH_AES_256_GCM_SHA384", "ECDH", false, false, "AESGCM", 256, "AEAD", false},
	{0xc033, "TLS_ECDHE_PSK_WITH_RC4_128_SHA", "ECDHE_PSK", false, false, "RC4", 128, "SHA1", true},
	{0xc034, "TLS_ECDHE_PSK_WITH_3DES_EDE_CBC_SHA", "ECDHE_PSK", false, false, "3DES", 168, "SHA1", true},
	{0xc035, "TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA", "ECDHE_PSK", false, false, "AES", 128, "SHA1", true},
	{0xc036, "TLS_ECDHE_PSK_WITH_AES_256_CBC_SHA", "ECDHE_PSK", false, false, "AES", 256, "SHA1", true},
	{0xc037, "TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256", "ECDHE_PSK", false, false, "AES", 128, "SHA256", true},
	{0xc038, "TLS_ECDHE_PSK_WITH_AES_256_CBC_SHA384", "ECDHE_PSK", false, false, "AES", 256, "SHA384", true},
	{0xc039, "TLS_ECDHE_PSK_WITH_NULL_SHA", "ECDHE_PSK", false, false, "NULL", 0, "SHA1", true},
	{0xc03a, "TLS_ECDHE_PSK_WITH_NULL_SHA256", "ECDHE_PSK", false, false, "NULL", 0, "SHA256", true},
	{0xc03b, "TLS_ECDHE_PSK_WITH_NULL_SHA384", "ECDHE_PSK", false, false, "NULL", 0, "SHA384", true},
	{0xc03c, "TLS_RSA_WITH_ARIA_128_CBC_SHA256", "RSA", false, false, "ARIA", 128, "SHA256", false},
	{0xc03d, "TLS_RSA_WITH_ARIA_256_CBC_SHA384", "RSA", false, false, "ARIA", 256, "SHA384", false},
	{0xc03e, "TLS_DH_DSS_WITH_ARIA_128_CBC_SHA256", "DH", false, false, "ARIA", 128, "SHA256", false},
	{0xc03f, "TLS_DH_DSS_WITH_ARIA_256_CBC_SHA384", "DH", false, false, "ARIA", 256, "SHA384", false},
	{0xc040, "TLS_DH_RSA_WITH_ARIA_128_CBC_SHA256", "DH", false, false, "ARIA", 128, "SHA256", false},
	{0xc041, "TLS_DH_RSA_WITH_ARIA_256_CBC_SHA384", "DH", false, false, "ARIA", 256, "SHA384", false},
	{0xc042, "TLS_DHE_DSS_WITH_ARIA_128_CBC_SHA256", "DHE", false, false, "ARIA", 128, "SHA256", true},
	{0xc043, "TLS_DHE_DSS_WITH_ARIA_256_CBC_SHA384", "DHE", false, false, "ARIA", 256, "SHA384", true},
	{0xc044, "TLS_DHE_RSA_WITH_ARIA_128_CBC_SHA256", "DHE", false, false, "ARIA", 128, "SHA256", true},
	{0xc045, "TLS_DHE_RSA_WITH_ARIA_256_CBC_SHA384", "DHE", false, false, "ARIA", 256, "SHA384", true},
	{0xc046, "TLS_DH_anon_WITH_ARIA_128_CBC_SHA256", "DHE", true, false, "ARIA", 128, "SHA256", true},
	{0xc047, "TLS_DH_anon_WITH_ARIA_256_CBC_SHA384", "DHE", true, false, "ARIA", 256, "SHA384", true},
	{0xc048, "TLS_ECDHE_ECDSA_WITH_ARIA_128_CBC_SHA256", "ECDHE", false, false, "ARIA", 128, "SHA256", true},
	{0xc049, "TLS_ECDHE_ECDSA_WITH_ARIA_256_CBC_SHA384", "ECDHE", false, false, "ARIA", 256, "SHA384", true},
	{0xc04a, "TLS_ECDH_ECDSA_WITH_ARIA_128_CBC_SHA256", "ECDH", false, false, "ARIA", 128, "SHA256", false},
	{0xc04b, "TLS_ECDH_ECDSA_WITH_ARIA_256_CBC_SHA384", "ECDH", false, false, "ARIA", 256, "SHA384", false},
	{0xc04c, "TLS_ECDHE_RSA_WITH_ARIA_128_CBC_SHA256", "ECDHE", false, false, "ARIA", 128, "SHA256", true},
	{0xc04d, "TLS_ECDHE_RSA_WITH_ARIA_256_CBC_SHA384", "ECDHE", false, false, "ARIA", 256, "SHA384", true},
	{0xc04e, "TLS_ECDH_RSA_WITH_ARIA_128_CBC_SHA256", "ECDH", false, false, "ARIA", 128, "SHA256", false},
	{0xc04f, "TLS_ECDH_RSA_WITH_ARIA_256_CBC_SHA384", "ECDH", false, false, "ARIA", 256, "SHA384", false},
	{0xc050, "TLS_RSA_WITH_ARIA_128_GCM_SHA256", "RSA", false, false, "ARIA", 128, "AEAD", false},
	{0xc051, "TLS_RSA_WITH_ARIA_256_GCM_SHA384", "RSA", false, false, "ARIA", 256, "AEAD", false},
	{0xc052, "TLS_DHE_RSA_WITH_ARIA_128_GCM_SHA256", "DHE", false, false, "ARIA", 128, "AEAD", true},
	{0xc053, "TLS_DHE_RSA_WITH_ARIA_256_GCM_SHA384", "DHE", false, false, "ARIA", 256, "AEAD", true},
	{0xc054, "TLS_DH_RSA_WITH_ARIA_128_GCM_SHA256", "DH", false, false, "ARIA", 128, "AEAD", false},
	{0xc055, "TLS_DH_RSA_WITH_ARIA_256_GCM_SHA384", "DH", false, false, "ARIA", 256, "AEAD", false},
	{0xc056, "TLS_DHE_DSS_WITH_ARIA_128_GCM_SHA256", "DHE", false, false, "ARIA", 128, "AEAD", true},
	{0xc057, "TLS_DHE_DSS_WITH_ARIA_256_GCM_SHA384", "DHE", false, false, "ARIA", 256, "AEAD", true},
	{0xc058, "TLS_DH_DSS_WITH_ARIA_128_GCM_SHA256", "DH", false, false, "ARIA", 128, "AEAD", false},
	{0xc059, "TLS_DH_DSS_WITH_ARIA_256_GCM_SHA384", "DH", false, false, "ARIA", 256, "AEAD", false},
	{0xc05a, "TLS_DH_anon_WITH_ARIA_128_GCM_SHA256", "DHE", true, false, "ARIA", 128, "AEAD", true},
	{0xc05b, "TLS_DH_anon_WITH_ARIA_256_GCM_SHA384", "DHE", true, false, "ARIA", 256, "AEAD", true},
	{0xc05c, "TLS_ECDHE_ECDSA_WITH_ARIA_128_GCM_SHA256", "ECDHE", false, false, "ARIA", 128, "AEAD", true},
	{0xc05d, "TLS_ECDHE_ECDSA_WITH_ARIA_256_GCM_SHA384", "ECDHE", false, false, "ARIA", 256, "AEAD", true},
	{0xc05e, "TLS_ECDH_ECDSA_WITH_ARIA_128_GCM_SHA256", "ECDH", false, false, "ARIA", 128, "AEAD", false},
	{0xc05f, "TLS_ECDH_ECDSA_WITH_ARIA_256_GCM_SHA384", "ECDH", false, false, "ARIA", 256, "AEAD", false},
	{0xc060, "TLS_ECDHE_RSA_WITH_ARIA_128_GCM_SHA256", "ECDHE", false, false, "ARIA", 128, "AEAD", true},
	{0xc061, "TLS_ECDHE_RSA_WITH_ARIA_256_GCM_SHA384", "ECDHE", false, false, "ARIA", 256, "AEAD", true},
	{0xc062, "TLS_ECDH_RSA_WITH_ARIA_128_GCM_SHA256", "ECDH", false, false, "ARIA", 128, "AEAD", false},
	{0xc063, "TLS_ECDH_RSA_WITH_ARIA_256_GCM_SHA384", "ECDH", false, false, "ARIA", 256, "AEAD", false},
	{0xc064, "TLS_PSK_WITH_ARIA_128_CBC_SHA256", "PSK", false, false, "ARIA", 128, "SHA256", false},
	{0xc065, "TLS_PSK_WITH_ARIA_256_CBC_SHA384", "PSK", false, false, "ARIA", 256, "SHA384", false},
	{0xc066, "TLS_DHE_PSK_WITH_ARIA_128_CBC_SHA256", "DHE_PSK", false, false, "ARIA", 128, "SHA256", true},
	{0xc067, "TLS_DHE_PSK_WITH_ARIA_256_CBC_SHA384", "DHE_PSK", false, false, "ARIA", 256, "SHA384", true},
	{0xc068, "TLS_RSA_PSK_WITH_ARIA_128_CBC_SHA256", "RSA_PSK", false, false, "ARIA", 128, "SHA256", false},
	{0xc069, "TLS_RSA_PSK_WITH_ARIA_256_CBC_SHA384", "RSA_PSK", false, false, "ARIA", 256, "SHA384", false},
	{0xc06a, "TLS_PSK_WITH_ARIA_128_GCM_SHA256", "PSK", false, false, "ARIA", 128, "AEAD", false},
	{0xc06b, "TLS_PSK_WITH_ARIA_256_GCM_SHA384", "PSK", false, false, "ARIA", 256, "AEAD", false},
	{0xc06c, "TLS_DHE_PSK_WITH_ARIA_128_GCM_SHA256", "DHE_PSK", false, false, "ARIA", 128, "AEAD", true},
	{0xc06d, "TLS_DHE_PSK_WITH_ARIA_256_GCM_SHA384", "DHE_PSK", false, false, "ARIA", 256, "AEAD", true},
	{0xc06e, "TLS_RSA_PSK_WITH_ARIA_128_GCM_SHA256", "RSA_PSK", false, false, "ARIA", 128, "AEAD", false},
	{0xc06f, "TLS_RSA_PSK_WITH_ARIA_256_GCM_SHA384", "RSA_PSK", false, false, "ARIA", 256, "AEAD", false},
	{0xc070, "TLS_ECDHE_PSK_WITH_ARIA_128_CBC_SHA256", "ECDHE_PSK", false, false, "ARIA", 128, "SHA256", true},
	{0xc071, "TLS_ECDHE_PSK_WITH_ARIA_256_CBC_SHA384", "ECDHE_PSK", false, false, "ARIA", 256, "SHA384", true},
	{0xc072, "TLS_ECDHE_ECDSA_WITH_CAMELLIA_128_CBC_SHA256", "ECDHE", false, false, "CAMELLIA", 128, "SHA256", true},
	{0xc073, "TLS_ECDHE_ECDSA_WITH_CAMELLIA_256_CBC_SHA384", "ECDHE", false, false, "CAMELLIA", 256, "SHA384", true},
	{0xc074, "TLS_ECDH_ECDSA_WITH_CAMELLIA_128_CBC_SHA256", "ECDH", false, false, "CAMELLIA", 128, "SHA256", false},
	{0xc075, "TLS_ECDH_ECDSA_WITH_CAMELLIA_256_CBC_SHA384", "ECDH", false, false, "CAMELLIA", 256, "SHA384", false},
	{0xc076, "TLS_ECDHE_RSA_WITH_CAMELLIA_128_CBC_SHA256", "ECDHE", false, false, "CAMELLIA", 128, "SHA256", true},
	{0xc077, "TLS_ECDHE_RSA_WITH_CAMELLIA_256_CBC_SHA384", "ECDHE", false, false, "CAMELLIA", 256, "SHA384", true},
	{0xc078, "TLS_ECDH_RSA_WITH_CAMELLIA_128_CBC_SHA256", "ECDH", false, false, "CAMELLIA", 128, "SHA256", false},
	{0xc079, "TLS_ECDH_RSA_WITH_CAMELLIA_256_CBC_SHA384", "ECDH", false, false, "CAMELLIA", 256, "SHA384", false},
	{0xc07a, "TLS_RSA_WITH_CAMELLIA_128_GCM_SHA256", "RSA", false, false, "CAMELLIA", 128, "AEAD", false},
	{0xc07b, "TLS_RSA_WITH_CAMELLIA_256_GCM_SHA384", "RSA", false, false, "CAMELLIA", 256, "AEAD", false},
	{0xc07c, "TLS_DHE_RSA_WITH_CAMELLIA_128_GCM_SHA256", "DHE", false, false, "CAMELLIA", 128, "AEAD", true},
	{0xc07d, "TLS_DHE_RSA_WITH_CAMELLIA_256_GCM_SHA384", "DHE", false, false, "CAMELLIA", 256, "AEAD", true},
	{0xc07e, "TLS_DH_RSA_WITH_CAMELLIA_128_GCM_SHA256", "DH", false, false, "CAMELLIA", 128, "AEAD", false},
	{0xc07f, "TLS_DH_RSA_WITH_CAMELLIA_256_GCM_SHA384", "DH", false, false, "CAMELLIA", 256, "AEAD", false},
	{0xc080, "TLS_DHE_DSS_WITH_CAMELLIA_128_GCM_SHA256", "DHE", false, false, "CAMELLIA", 128, "AEAD", true},
	{0xc081, "TLS_DHE_DSS_WITH_CAMELLIA_256_GCM_SHA384", "DHE", false, false, "CAMELLIA", 256, "AEAD", true},
	{0xc082, "TLS_DH_DSS_WITH_CAMELLIA_128_GCM_SHA256", "DH", false, false, "CAMELLIA", 128, "AEAD", false},
	{0xc083, "TLS_DH_DSS_WITH_CAMELLIA_256_GCM_SHA384", "DH", false, false, "CAMELLIA", 256, "AEAD", false},
	{0xc084, "TLS_DH_anon_WITH_CAMELLIA_128_GCM_SHA256", "DHE", true, false, "CAMELLIA", 128, "AEAD", true},
	{0xc085, "TLS_DH_anon_WITH_CAMELLIA_256_GCM_SHA384", "DHE", true, false, "CAMELLIA", 256, "AEAD", true},
	{0xc086, "TLS_ECDHE_ECDSA_WITH_CAMELLIA_128_GCM_SHA256", "ECDHE", false, false, "CAMELLIA", 128, "AEAD", true},
	{0xc087, "TLS_ECDHE_ECDSA_WITH_CAMELLIA_256_GCM_SHA384", "ECDHE", false, false, "CAMELLIA", 256, "AEAD", true},
	{0xc088, "TLS_ECDH_ECDSA_WITH_CAMELLIA_128_GCM_SHA256", "ECDH", false, false, "CAMELLIA", 128, "AEAD", false},
	{0xc089, "TLS_ECDH_ECDSA_WITH_CAMELLIA_256_GCM_SHA384", "ECDH", false, false, "CAMELLIA", 256, "AEAD", false},
	{0xc08a, "TLS_ECDHE_RSA_WITH_CAMELLIA_128_GCM_SHA256", "ECDHE", false, false, "CAMELLIA", 128, "AEAD", true},
	{0xc08b, "TLS_ECDHE_RSA_WITH_CAMELLIA_256_GCM_SHA384", "ECDHE", false, false, "CAMELLIA", 256, "AEAD", true},
	{0xc08c, "TLS_ECDH_RSA_WITH_CAMELLIA_128_GCM_SHA256", "ECDH", false, false, "CAMELLIA", 128, "AEAD", false},
	{0xc08d, "TLS_ECDH_RSA_WITH_CAMELLIA_256_GCM_SHA384", "ECDH", false, false, "CAMELLIA", 256, "AEAD", false},
	{0xc08e, "TLS_PSK_WITH_CAMELLIA_128_GCM_SHA256", "PSK", false, false, "CAMELLIA", 128, "AEAD", false},
	{0xc08f, "TLS_PSK_WITH_CAMELLIA_256_GCM_SHA384", "PSK", false, false, "CAMELLIA", 256, "AEAD", false},
	{0xc090, "TLS_DHE_PSK_WITH_CAMELLIA_128_GCM_SHA256", "DHE_PSK", false, false, "CAMELLIA", 128, "AEAD", true},
	{0xc091, "TLS_DHE_PSK_WITH_CAMELLIA_256_GCM_SHA384", "DHE_PSK", false, false, "CAMELLIA", 256, "AEAD", true},
	{0xc092, "TLS_RSA_PSK_WITH_CAMELLIA_128_GCM_SHA256", "RSA_PSK", false, false, "CAMELLIA", 128, "AEAD", false},
	{0xc093, "TLS_RSA_PSK_WITH_CAMELLIA_256_GCM_SHA384", "RSA_PSK", false, false, "CAMELLIA", 256, "AEAD", false},
	{0xc094, "TLS_PSK_WITH_CAMELLIA_128_CBC_SHA256", "PSK", false, false, "CAMELLIA", 128, "SHA256", false},
	{0xc095, "TLS_PSK_WITH_CAMELLIA_256_CBC_SHA384", "PSK", false, false, "CAMELLIA", 256, "SHA384", false},
	{0xc096, "TLS_DHE_PSK_WITH_CAMELLIA_128_CBC_SHA256", "DHE_PSK", false, false, "CAMELLIA", 128, "SHA256", true},
	{0xc097, "TLS_DHE_PSK_WITH_CAMELLIA_256_CBC_SHA384", "DHE_PSK", false, false, "CAMELLIA", 256, "SHA384", true},
	{0xc098, "TLS_RSA_PSK_WITH_CAMELLIA_128_CBC_SHA256", "RSA_PSK", false, false, "CAMELLIA", 128, "SHA256", false},
	{0xc099, "TLS_RSA_PSK_WITH_CAMELLIA_256_CBC_SHA384", "RSA_PSK", false, false, "CAMELLIA", 256, "SHA384", false},
	{0xc09a, "TLS_ECDHE_PSK_WITH_CAMELLIA_128_CBC_SHA256", "ECDHE_PSK", false, false, "CAMELLIA", 128, "SHA256", true},
	{0xc09b, "TLS_ECDHE_PSK_WITH_CAMELLIA_256_CBC_SHA384", "ECDHE_PSK", false, false, "CAMELLIA", 256, "SHA384", true},
	{0xc09c, "TLS_RSA_WITH_AES_128_CCM", "RSA", false, false, "AESCCM", 128, "AEAD", false},
	{0xc09d, "TLS_RSA_WITH_AES_256_CCM", "RSA", false, false, "AESCCM", 256, "AEAD", false},
	{0xc09e, "TLS_DHE_RSA_WITH_AES_128_CCM", "DHE", false, false, "AESCCM", 128, "AEAD", true},
	{0xc09f, "TLS_DHE_RSA_WITH_AES_256_CCM", "DHE", false, false, "AESCCM", 256, "AEAD", true},
	{0xc0a0, "TLS_RSA_WITH_AES_128_CCM_8", "RSA", false, false, "AESCCM", 128, "AEAD", false},
	{0xc0a1, "TLS_RSA_WITH_AES_256_CCM_8", "RSA", false, false, "AESCCM", 256, "AEAD", false},
	{0xc0a2, "TLS_DHE_RSA_WITH_AES_128_CCM_8", "DHE", false, false, "AESCCM", 128, "AEAD", true},
	{0xc0a3, "TLS_DHE_RSA_WITH_AES_256_CCM_8", "DHE", false, false, "AESCCM", 256, "AEAD", true},
	{0xc0a4, "TLS_PSK_WITH_AES_128_CCM", "PSK", false, false, "AESCCM", 128, "AEAD", false},
	{0xc0a5, "TLS_PSK_WITH_AES_256_CCM", "PSK", false, false, "AESCCM", 256, "AEAD", false},
	{0xc0a6, "TLS_DHE_PSK_WITH_AES_128_CCM", "DHE_PSK", false, false, "AESCCM", 128, "AEAD", true},
	{0xc0a7, "TLS_DHE_PSK_WITH_AES_256_CCM", "DHE_PSK", false, false, "AESCCM", 256, "AEAD", true},
	{0xc0a8, "TLS_PSK_WITH_AES_128_CCM_8", "PSK", false, false, "AESCCM", 128, "AEAD", false},
	{0xc0a9, "TLS_PSK_WITH_AES_256_CCM_8", "PSK", false, false, "AESCCM", 256, "AEAD", false},
	{0xc0aa, "TLS_PSK_DHE_WITH_AES_128_CCM_8", "DHE_PSK", false, false, "AESCCM", 128, "AEAD", true},
	{0xc0ab, "TLS_PSK_DHE_WITH_AES_256_CCM_8", "DHE_PSK", false, false, "AESCCM", 256, "AEAD", true},
	{0xc0ac, "TLS_ECDHE_ECDSA_WITH_AES_128_CCM", "ECDHE", false, false, "AESCCM", 128, "AEAD", true},
	{0xc0ad, "TLS_ECDHE_ECDSA_WITH_AES_256_CCM", "ECDHE", false, false, "AESCCM", 256, "AEAD", true},
	{0xc0ae, "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8", "ECDHE", false, false, "AESCCM", 128, "AEAD", true},
	{0xc0af, "TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8", "ECDHE", false, false, "AESCCM", 256, "AEAD", true},
	{0xc0b0, "TLS_ECCPWD_WITH_AES_128_GCM_SHA256", "ECCPWD", false, false, "AESGCM", 128, "AEAD", true},
	{0xc0b1, "TLS_ECCPWD_WITH_AES_256_GCM_SHA384", "ECCPWD", false, false, "AESGCM", 256, "AEAD", true},
	{0xc0b2, "TLS_ECCPWD_WITH_AES_128_CCM_SHA256", "ECCPWD", false, false, "AESCCM", 128, "AEAD", true},
	{0xc0b3, "TLS_ECCPWD_WITH_AES_256_CCM_SHA384", "ECCPWD", false, false, "AESCCM", 256, "AEAD", true},
	{0xc0b4, "TLS_SHA256_SHA256", "TLS13", false, false, "NULL", 0, "SHA256", true},
	{0xc0b5, "TLS_SHA384_SHA384", "TLS13", false, false, "NULL", 0, "SHA384", true},
	{0xc100, "TLS_GOSTR341112_256_WITH_KUZNYECHIK_CTR_OMAC", "GOST", false, false, "KUZNYECHIK", 256, "GOST", false},
	{0xc101, "TLS_GOSTR341112_256_WITH_MAGMA_CTR_OMAC", "GOST", false, false, "MAGMA", 256, "GOST", false},
	{0xc102, "TLS_GOSTR341112_256_WITH_28147_CNT_IMIT", "GOST", false, false, "GOST28147", 256, "GOST", false},
	{0xc103, "TLS_GOSTR341112_256_WITH_KUZNYECHIK_MGM_L", "TLS13", false, false, "KUZNYECHIK", 256, "AEAD", true},
	{0xc104, "TLS_GOSTR341112_256_WITH_MAGMA_MGM_L", "TLS13", false, false, "MAGMA", 256, "AEAD", true},
	{0xc105, "TLS_GOSTR341112_256_WITH_KUZNYECHIK_MGM_S", "TLS13", false, false, "KUZNYECHIK", 256, "AEAD", true},
	{0xc106, "TLS_GOSTR341112_256_WITH_MAGMA_MGM_S", "TLS13", false, false, "MAGMA", 256, "AEAD", true},
	{0xcc13, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256_OLD", "ECDHE", false, false, "CHACHA20", 256, "AEAD", true},   // not IANA-assigned; seen in deployed software
	{0xcc14, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256_OLD", "ECDHE", false, false, "CHACHA20", 256, "AEAD", true}, // not IANA-assigned; seen in deployed software
	{0xcc15, "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256_OLD", "DHE", false, false, "CHACHA20", 256, "AEAD", true},       // not IANA-assigned; seen in deployed software
	{0xcca8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE", false, false, "CHACHA20", 256, "AEAD", true},
	{0xcca9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE", false, false, "CHACHA20", 256, "AEAD", true},
	{0xccaa, "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "DHE", false, false, "CHACHA20", 256, "AEAD", true},
	{0xccab, "TLS_PSK_WITH_CHACHA20_POLY1305_SHA256", "PSK", false, false, "CHACHA20", 256, "AEAD", false},
	{0xccac, "TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256", "ECDHE_PSK", false, false, "CHACHA20", 256, "AEAD", true},
	{0xccad, "TLS_DHE_PSK_WITH_CHACHA20_POLY1305_SHA256", "DHE_PSK", false, false, "CHACHA20", 256, "AEAD", true},
	{0xccae, "TLS_RSA_PSK_WITH_CHACHA20_POLY1305_SHA256", "RSA_PSK", false, false, "CHACHA20", 256, "AEAD", false},
	{0xd001, "TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256", "ECDHE_PSK", false, false, "AESGCM", 128, "AEAD", true},
	{0xd002, "TLS_ECDHE_PSK_WITH_AES_256_GCM_SHA384", "ECDHE_PSK", false, false, "AESGCM", 256, "AEAD", true},
	{0xd003, "TLS_ECDHE_PSK_WITH_AES_128_CCM_8_SHA256", "ECDHE_PSK", false, false, "AESCCM", 128, "AEAD", true},
	{0xd005, "TLS_ECDHE_PSK_WITH_AES_128_CCM_SHA256", "ECDHE_PSK", false, false, "AESCCM", 128, "AEAD", true},
}

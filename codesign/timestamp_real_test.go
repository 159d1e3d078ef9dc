package codesign

import (
	"encoding/asn1"
	"os"
	"path/filepath"
	"testing"

	"github.com/smallstep/pkcs7"
)

// signedDataDER mirrors RFC 5652's SignedData closely enough to re-encode one with an
// unsigned attribute added to its signer.
type signedDataDER struct {
	Version          int
	DigestAlgorithms asn1.RawValue
	ContentInfo      asn1.RawValue
	Certificates     asn1.RawValue `asn1:"optional,tag:0"`
	SignerInfos      []signerInfo  `asn1:"set"`
}

type contentInfoDER struct {
	ContentType asn1.ObjectIdentifier
	Content     asn1.RawValue `asn1:"explicit,tag:0"`
}

// addUnsignedAttr re-encodes a DER CMS SignedData with attr added to its first signer's
// unsigned attributes, as a signing tool that timestamps would.
func addUnsignedAttr(t *testing.T, der []byte, oid asn1.ObjectIdentifier, value []byte) []byte {
	t.Helper()
	var ci contentInfoDER
	if _, err := asn1.Unmarshal(der, &ci); err != nil {
		t.Fatal(err)
	}
	var sd signedDataDER
	if _, err := asn1.Unmarshal(ci.Content.Bytes, &sd); err != nil {
		t.Fatal(err)
	}
	sd.SignerInfos[0].UnauthenticatedAttributes = append(sd.SignerInfos[0].UnauthenticatedAttributes,
		attribute{Type: oid, Value: asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSet, IsCompound: true, Bytes: value}})
	inner, err := asn1.Marshal(sd)
	if err != nil {
		t.Fatal(err)
	}
	out, err := asn1.Marshal(contentInfoDER{ContentType: ci.ContentType, Content: asn1.RawValue{FullBytes: mustWrap(t, inner)}})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func mustWrap(t *testing.T, inner []byte) []byte {
	b, err := asn1.Marshal(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: inner})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestCMSTimestampRealOpenSSL countersigns an openssl cms signature with an RFC 3161
// token made by openssl ts (the TSA chains to the test root), and a token over other
// data; the first is a valid, trusted timestamp, the second is not valid.
func TestCMSTimestampRealOpenSSL(t *testing.T) {
	p := makePKI(t)
	d := t.TempDir()
	img := image(50_000, 3)
	for _, n := range []string{"ts.bin", "badts.bin"} {
		write(t, filepath.Join(d, n), img)
	}
	run(t, d, nil, "openssl", "cms", "-sign", "-binary", "-in", "ts.bin", "-out", "plain.p7s", "-outform", "DER",
		"-signer", filepath.Join(p, "leaf.pem"), "-inkey", filepath.Join(p, "leaf.key"), "-certfile", filepath.Join(p, "chain.pem"))
	der := mustRead(t, filepath.Join(d, "plain.p7s"))
	p7, err := pkcs7.Parse(der)
	if err != nil {
		t.Fatal(err)
	}
	stamp := func(data []byte, name string) []byte {
		write(t, filepath.Join(d, name+".dat"), data)
		run(t, d, nil, "openssl", "ts", "-query", "-data", name+".dat", "-sha256", "-cert", "-out", name+".tsq")
		run(t, p, []string{"OPENSSL_CONF=" + filepath.Join(p, "openssl.cnf")}, "openssl", "ts", "-reply", "-config", filepath.Join(p, "openssl.cnf"),
			"-queryfile", filepath.Join(d, name+".tsq"), "-token_out", "-out", filepath.Join(d, name+".tok"))
		return mustRead(t, filepath.Join(d, name+".tok"))
	}
	good := stamp(p7.Signers[0].EncryptedDigest, "good")
	other := stamp([]byte("another signature"), "other")
	write(t, filepath.Join(d, "ts.bin.p7s"), addUnsignedAttr(t, der, oidTimeStampTok, good))
	write(t, filepath.Join(d, "badts.bin.p7s"), addUnsignedAttr(t, der, oidTimeStampTok, other))
	os.Remove(filepath.Join(d, "plain.p7s"))
	for _, n := range []string{"good.dat", "other.dat", "good.tsq", "other.tsq", "good.tok", "other.tok"} {
		os.Remove(filepath.Join(d, n))
	}

	imgs := examineDir(t, d, &Policy{Anchors: anchorsFrom(t, filepath.Join(p, "root.pem"))})
	check(t, imgs, "ts.bin", want{verdict: VerdictVerified, trust: TrustTrusted})
	s := imgs["ts.bin"].Signatures[0]
	if !s.TimestampValid || !s.TimestampTrusted || s.Timestamp.IsZero() || s.TimestampSigner == "" {
		t.Errorf("timestamp valid %v trusted %v at %v by %q, want a valid trusted one", s.TimestampValid, s.TimestampTrusted, s.Timestamp, s.TimestampSigner)
	}
	b := imgs["badts.bin"].Signatures[0]
	if !b.Verifies || b.TimestampValid || b.Timestamp.IsZero() {
		t.Errorf("a token over other data: verifies %v, timestamp valid %v at %v; want the signature verified, the timestamp present and not valid", b.Verifies, b.TimestampValid, b.Timestamp)
	}
}

package codesign

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/medscan/medscan/observe"
)

// APK signature schemes v2 and v3 (apksigner) sign the whole file but for the signing
// block itself: the APK Signing Block sits between the zip entries and the central
// directory, and holds per signer the signed data (digests of the contents, the
// certificates), signatures over it, and the public key. The contents' digest is a
// Merkle-like hash over 1 MiB chunks of three sections: the entries, the central
// directory, and the end-of-central-directory record with its directory offset pointing
// at the signing block.

const (
	apkSigBlockMagic = "APK Sig Block 42"
	apkV2ID          = 0x7109871a
	apkV3ID          = 0xf05368c0
	apkChunk         = 1 << 20
	maxAPKSigBlock   = MaxManifestSize
	maxAPKSigners    = 10
)

// apkAlgo is a signature algorithm of the schemes: how the signed data is signed, and
// which chunked digest covers the contents.
type apkAlgo struct {
	hash   crypto.Hash // of the signed data, and of the contents' chunks
	pss    bool
	key    string // "rsa", "ecdsa", "dsa"
	verity bool   // the contents digest is a verity tree (not computed here)
}

var apkAlgos = map[uint32]apkAlgo{
	0x0101: {crypto.SHA256, true, "rsa", false},
	0x0102: {crypto.SHA512, true, "rsa", false},
	0x0103: {crypto.SHA256, false, "rsa", false},
	0x0104: {crypto.SHA512, false, "rsa", false},
	0x0201: {crypto.SHA256, false, "ecdsa", false},
	0x0202: {crypto.SHA512, false, "ecdsa", false},
	0x0301: {crypto.SHA256, false, "dsa", false},
	0x0421: {crypto.SHA256, false, "rsa", true},
	0x0423: {crypto.SHA256, false, "ecdsa", true},
	0x0425: {crypto.SHA256, false, "dsa", true},
}

// apkLayout is where the parts of an APK lie.
type apkLayout struct {
	blockOff, cdOff, cdSize, eocdOff, size int64
	eocd                                   []byte
	pairs                                  map[uint32][]byte // the signing block's ID-value pairs
}

// findEOCD finds the end-of-central-directory record (the last one whose comment length
// reaches the end of the file).
func findEOCD(r io.ReaderAt, size int64) (int64, []byte, error) {
	n := min(size, 22+65535)
	buf := make([]byte, n)
	if _, err := r.ReadAt(buf, size-n); err != nil {
		return 0, nil, err
	}
	for i := int(n) - 22; i >= 0; i-- {
		if binary.LittleEndian.Uint32(buf[i:]) == 0x06054b50 && int(binary.LittleEndian.Uint16(buf[i+20:]))+i+22 == int(n) {
			return size - n + int64(i), buf[i:], nil
		}
	}
	return 0, nil, errors.New("no end of central directory")
}

// readAPKLayout finds the signing block; ok false when the APK has none.
func readAPKLayout(r io.ReaderAt, size int64) (apkLayout, bool, error) {
	l := apkLayout{size: size}
	var err error
	l.eocdOff, l.eocd, err = findEOCD(r, size)
	if err != nil {
		return l, false, err
	}
	l.cdSize = int64(binary.LittleEndian.Uint32(l.eocd[12:]))
	l.cdOff = int64(binary.LittleEndian.Uint32(l.eocd[16:]))
	if l.cdOff+l.cdSize != l.eocdOff {
		return l, false, errors.New("central directory not right before its end record (zip64 or junk)")
	}
	if l.cdOff < 32 {
		return l, false, nil
	}
	var foot [24]byte
	if _, err := r.ReadAt(foot[:], l.cdOff-24); err != nil {
		return l, false, err
	}
	if string(foot[8:]) != apkSigBlockMagic {
		return l, false, nil
	}
	bsize := binary.LittleEndian.Uint64(foot[:8])
	if bsize < 24 || bsize > maxAPKSigBlock || int64(bsize)+8 > l.cdOff {
		return l, true, fmt.Errorf("APK signing block of %d bytes", bsize)
	}
	l.blockOff = l.cdOff - int64(bsize) - 8
	block := make([]byte, bsize+8)
	if _, err := r.ReadAt(block, l.blockOff); err != nil {
		return l, true, err
	}
	if binary.LittleEndian.Uint64(block) != bsize {
		return l, true, errors.New("APK signing block sizes disagree")
	}
	l.pairs = map[uint32][]byte{}
	for p := block[8 : len(block)-24]; len(p) > 0; {
		if len(p) < 8 {
			return l, true, errors.New("APK signing block pair truncated")
		}
		n := binary.LittleEndian.Uint64(p)
		if n < 4 || n > uint64(len(p)-8) {
			return l, true, errors.New("APK signing block pair of a bad length")
		}
		id := binary.LittleEndian.Uint32(p[8:])
		if _, ok := l.pairs[id]; !ok {
			l.pairs[id] = p[12 : 8+n]
		}
		p = p[8+n:]
	}
	return l, true, nil
}

// lp reads one uint32-length-prefixed field.
func lp(b []byte) (field, rest []byte, err error) {
	if len(b) < 4 {
		return nil, nil, errors.New("truncated length prefix")
	}
	n := binary.LittleEndian.Uint32(b)
	if uint64(n) > uint64(len(b)-4) {
		return nil, nil, errors.New("length prefix beyond its field")
	}
	return b[4 : 4+n], b[4+n:], nil
}

// lpSeq splits a length-prefixed sequence of length-prefixed items.
func lpSeq(b []byte, max int) ([][]byte, error) {
	var out [][]byte
	for len(b) > 0 {
		if len(out) >= max {
			return nil, fmt.Errorf("more than %d items", max)
		}
		var it []byte
		var err error
		if it, b, err = lp(b); err != nil {
			return nil, err
		}
		out = append(out, it)
	}
	return out, nil
}

// apkSigner is one signer of a v2/v3 block, parsed.
type apkSigner struct {
	signedData []byte
	digests    map[uint32][]byte
	certs      [][]byte
	sigs       map[uint32][]byte
	sigOrder   []uint32
	publicKey  []byte
}

func parseAPKSigners(v []byte, v3 bool) ([]apkSigner, error) {
	seq, rest, err := lp(v)
	if err != nil || len(rest) != 0 {
		return nil, errors.New("malformed signer sequence")
	}
	items, err := lpSeq(seq, maxAPKSigners)
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return nil, errors.New("no signer")
	}
	var out []apkSigner
	for _, it := range items {
		var s apkSigner
		var sigs []byte
		if s.signedData, it, err = lp(it); err != nil {
			return nil, err
		}
		if v3 {
			if len(it) < 8 {
				return nil, errors.New("v3 signer without SDK bounds")
			}
			it = it[8:]
		}
		if sigs, it, err = lp(it); err != nil {
			return nil, err
		}
		if s.publicKey, _, err = lp(it); err != nil {
			return nil, err
		}
		sd := s.signedData
		var digests, certs []byte
		if digests, sd, err = lp(sd); err != nil {
			return nil, err
		}
		if certs, _, err = lp(sd); err != nil {
			return nil, err
		}
		s.digests = map[uint32][]byte{}
		ds, err := lpSeq(digests, 16)
		if err != nil {
			return nil, err
		}
		for _, d := range ds {
			if len(d) < 4 {
				return nil, errors.New("digest record truncated")
			}
			v, _, err := lp(d[4:])
			if err != nil {
				return nil, err
			}
			s.digests[binary.LittleEndian.Uint32(d)] = v
		}
		if s.certs, err = lpSeq(certs, 16); err != nil {
			return nil, err
		}
		s.sigs = map[uint32][]byte{}
		ss, err := lpSeq(sigs, 16)
		if err != nil {
			return nil, err
		}
		for _, x := range ss {
			if len(x) < 4 {
				return nil, errors.New("signature record truncated")
			}
			v, _, err := lp(x[4:])
			if err != nil {
				return nil, err
			}
			id := binary.LittleEndian.Uint32(x)
			s.sigs[id] = v
			s.sigOrder = append(s.sigOrder, id)
		}
		out = append(out, s)
	}
	return out, nil
}

// apkContentDigest is the chunked digest of the entries, the central directory and the
// end record (its directory offset replaced by the signing block's).
func apkContentDigest(r io.ReaderAt, l apkLayout, h crypto.Hash) ([]byte, error) {
	eocd := bytes.Clone(l.eocd)
	binary.LittleEndian.PutUint32(eocd[16:], uint32(l.blockOff))
	sections := []io.ReaderAt{io.NewSectionReader(r, 0, l.blockOff), io.NewSectionReader(r, l.cdOff, l.cdSize), bytes.NewReader(eocd)}
	sizes := []int64{l.blockOff, l.cdSize, int64(len(eocd))}
	var chunks []byte
	count := uint32(0)
	buf := make([]byte, apkChunk)
	for i, s := range sections {
		for off := int64(0); off < sizes[i]; off += apkChunk {
			n := min(int64(apkChunk), sizes[i]-off)
			if _, err := s.ReadAt(buf[:n], off); err != nil && !errors.Is(err, io.EOF) {
				return nil, err
			}
			w := h.New()
			var pre [5]byte
			pre[0] = 0xa5
			binary.LittleEndian.PutUint32(pre[1:], uint32(n))
			w.Write(pre[:])
			w.Write(buf[:n])
			chunks = w.Sum(chunks)
			count++
		}
	}
	w := h.New()
	var pre [5]byte
	pre[0] = 0x5a
	binary.LittleEndian.PutUint32(pre[1:], count)
	w.Write(pre[:])
	w.Write(chunks)
	return w.Sum(nil), nil
}

// examineAPKBlock checks the v3 and v2 signatures of an APK; found says whether it has
// a signing block at all.
func examineAPKBlock(r io.ReaderAt, size int64, anchors *Anchors) ([]observe.UpdateSignature, bool) {
	l, found, err := readAPKLayout(r, size)
	if !found {
		return nil, false
	}
	if err != nil {
		return []observe.UpdateSignature{{Kind: "apk-v2", Checked: true, Trust: TrustNotJudged, Reason: "APK signing block malformed: " + err.Error()}}, true
	}
	var out []observe.UpdateSignature
	digests := map[crypto.Hash][]byte{}
	for _, scheme := range []struct {
		id   uint32
		kind string
	}{{apkV3ID, "apk-v3"}, {apkV2ID, "apk-v2"}} {
		v, ok := l.pairs[scheme.id]
		if !ok {
			continue
		}
		out = append(out, checkAPKScheme(r, l, v, scheme.kind, scheme.id == apkV3ID, anchors, digests))
	}
	return out, true
}

func checkAPKScheme(r io.ReaderAt, l apkLayout, v []byte, kind string, v3 bool, anchors *Anchors, digests map[crypto.Hash][]byte) observe.UpdateSignature {
	sig := observe.UpdateSignature{Kind: kind, Trust: TrustNotJudged}
	signers, err := parseAPKSigners(v, v3)
	if err != nil {
		sig.Checked, sig.Reason = true, kind+" block malformed: "+err.Error()
		return sig
	}
	// Every signer must verify (Android's rule); the first one names the signature.
	for i, s := range signers {
		one := checkAPKSigner(r, l, s, kind, anchors, digests)
		if i == 0 || !one.Verifies && sig.Verifies {
			sig = one
		}
		if !one.Verifies {
			return one
		}
	}
	return sig
}

func checkAPKSigner(r io.ReaderAt, l apkLayout, s apkSigner, kind string, anchors *Anchors, digests map[crypto.Hash][]byte) observe.UpdateSignature {
	sig := observe.UpdateSignature{Kind: kind, Trust: TrustNotJudged}
	if len(s.certs) == 0 {
		sig.Checked, sig.Reason = true, "signer without a certificate"
		return sig
	}
	cert, err := x509.ParseCertificate(s.certs[0])
	if err != nil {
		sig.Checked, sig.Reason = true, "signer certificate malformed: "+err.Error()
		return sig
	}
	describeCert(&sig.Signer, cert)
	pub, err := x509.ParsePKIXPublicKey(s.publicKey)
	if err != nil || !bytes.Equal(s.publicKey, cert.RawSubjectPublicKeyInfo) {
		sig.Checked, sig.Reason = true, "the signer's public key is not its certificate's"
		return sig
	}
	// The strongest algorithm present that medscan computes (verity digests are not).
	var id uint32
	var algo apkAlgo
	for _, x := range s.sigOrder {
		a, ok := apkAlgos[x]
		if !ok || a.verity {
			continue
		}
		if id == 0 || a.hash > algo.hash {
			id, algo = x, a
		}
	}
	if id == 0 {
		sig.Reason = "no signature algorithm medscan checks (verity-only or unknown)"
		return sig
	}
	sig.Checked = true
	sig.Digest = hashName(algo.hash)
	d := memDigest(s.signedData, algo.hash)
	value := s.sigs[id]
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if algo.key != "rsa" {
			err = errors.New("key type does not match the algorithm")
		} else if algo.pss {
			err = rsa.VerifyPSS(k, algo.hash, d, value, &rsa.PSSOptions{SaltLength: algo.hash.Size()})
		} else {
			err = rsa.VerifyPKCS1v15(k, algo.hash, d, value)
		}
	case *ecdsa.PublicKey:
		if algo.key != "ecdsa" || !ecdsa.VerifyASN1(k, d, value) {
			err = errors.New("ECDSA verification failure")
		}
	default:
		err = fmt.Errorf("key type %T not supported", pub)
	}
	if err != nil {
		sig.Reason = "the signature over the signed data does not verify: " + err.Error()
		return sig
	}
	want, ok := s.digests[id]
	if !ok {
		sig.Reason = "the signed data has no contents digest for its signature's algorithm"
		return sig
	}
	got, ok := digests[algo.hash]
	if !ok {
		if got, err = apkContentDigest(r, l, algo.hash); err != nil {
			sig.Checked, sig.Reason = false, "contents not read: "+err.Error()
			return sig
		}
		digests[algo.hash] = got
	}
	if !bytes.Equal(got, want) {
		sig.Reason = "digest mismatch: the APK was modified after signing"
		return sig
	}
	sig.Verifies = true
	var chain []*x509.Certificate
	for _, c := range s.certs[1:] {
		if x, err := x509.ParseCertificate(c); err == nil {
			chain = append(chain, x)
		}
	}
	sig.Trust, sig.TrustReason = judgeChain(cert, append([]*x509.Certificate{cert}, chain...), anchors, time.Time{})
	// Android ignores the certificate's extended key usage: not a weakness here.
	sig.Weaknesses = slices.DeleteFunc(certWeaknesses(cert, time.Time{}, false), func(w string) bool { return w == "no-code-signing-eku" })
	sig.Weaknesses = uniqueSorted(sig.Weaknesses)
	return sig
}

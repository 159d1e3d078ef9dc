package codesign

import (
	"bytes"
	"crypto"
	"debug/pe"
	"encoding/asn1"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/medscan/medscan/observe"
)

// readerAt adapts a ReadSeeker to io.ReaderAt for debug/pe (its reads are serialised).
type readerAt struct {
	mu sync.Mutex
	r  io.ReadSeeker
}

func (a *readerAt) ReadAt(p []byte, off int64) (int, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, err := a.r.Seek(off, io.SeekStart); err != nil {
		return 0, err
	}
	return io.ReadFull(a.r, p)
}

// peLayout is what the Authenticode hash and the certificate table need of a PE file.
type peLayout struct {
	checksumOff int64 // the optional header's CheckSum field
	secDirOff   int64 // the security data directory entry (8 bytes)
	certOff     int64 // the attribute certificate table (file offset), 0 when none
	certSize    int64
}

// readPELayout finds the fields Authenticode excludes from the image hash.
func readPELayout(r io.ReadSeeker, size int64) (peLayout, error) {
	var l peLayout
	ra := &readerAt{r: r}
	f, err := pe.NewFile(ra)
	if err != nil {
		return l, fmt.Errorf("not a PE file: %v", err)
	}
	var hdr [4]byte
	if _, err := ra.ReadAt(hdr[:], 0x3c); err != nil {
		return l, err
	}
	peOff := int64(binary.LittleEndian.Uint32(hdr[:]))
	opt := peOff + 4 + 20
	l.checksumOff = opt + 64
	var dirs int64
	var sec pe.DataDirectory
	switch oh := f.OptionalHeader.(type) {
	case *pe.OptionalHeader32:
		dirs = opt + 96
		if oh.NumberOfRvaAndSizes <= 4 {
			return l, errors.New("PE without a security directory entry")
		}
		sec = oh.DataDirectory[4]
	case *pe.OptionalHeader64:
		dirs = opt + 112
		if oh.NumberOfRvaAndSizes <= 4 {
			return l, errors.New("PE without a security directory entry")
		}
		sec = oh.DataDirectory[4]
	default:
		return l, errors.New("PE without an optional header")
	}
	l.secDirOff = dirs + 4*8
	l.certOff, l.certSize = int64(sec.VirtualAddress), int64(sec.Size)
	if l.certSize == 0 {
		l.certOff = 0
	}
	if l.certOff != 0 && (l.certOff < l.secDirOff+8 || l.certOff+l.certSize > size) {
		return l, fmt.Errorf("certificate table at %d+%d lies outside the file", l.certOff, l.certSize)
	}
	return l, nil
}

// peDigest computes the Authenticode image hash: the whole file but the CheckSum field,
// the security directory entry and the certificate table (which a signer appends at the
// end, so the bytes after it, normally none, are hashed too).
func peDigest(r io.ReadSeeker, l peLayout, size int64, h crypto.Hash) ([]byte, error) {
	if !h.Available() {
		return nil, fmt.Errorf("hash %v not available", h)
	}
	w := h.New()
	end := size
	if l.certOff != 0 {
		end = l.certOff
	}
	ranges := [][2]int64{{0, l.checksumOff}, {l.checksumOff + 4, l.secDirOff}, {l.secDirOff + 8, end}}
	if l.certOff != 0 {
		ranges = append(ranges, [2]int64{l.certOff + l.certSize, size})
	}
	for _, rg := range ranges {
		if rg[1] <= rg[0] {
			continue
		}
		if _, err := r.Seek(rg[0], io.SeekStart); err != nil {
			return nil, err
		}
		if _, err := io.CopyN(w, r, rg[1]-rg[0]); err != nil {
			return nil, err
		}
	}
	return w.Sum(nil), nil
}

// peSignatures parses the attribute certificate table: WIN_CERTIFICATE entries, 8-byte
// aligned, of which type 2 (PKCS_SIGNED_DATA) holds an Authenticode SignedData.
func peSignatures(table []byte) ([][]byte, error) {
	var out [][]byte
	for len(table) >= 8 && len(out) < 16 {
		n := int(binary.LittleEndian.Uint32(table[0:4]))
		typ := binary.LittleEndian.Uint16(table[6:8])
		if n < 8 || n > len(table) {
			return out, fmt.Errorf("certificate table entry of length %d in %d bytes", n, len(table))
		}
		if typ == 2 {
			out = append(out, table[8:n])
		}
		step := (n + 7) &^ 7
		if step >= len(table) {
			break
		}
		table = table[step:]
	}
	return out, nil
}

// spcIndirectData is Authenticode's signed content: the image's digest.
type spcIndirectData struct {
	Data          asn1.RawValue
	MessageDigest struct {
		Algorithm algorithmIdentifier
		Digest    []byte
	}
}

// examineAuthenticode checks the signatures embedded in a PE image. A PE without a
// certificate table has none (nothing is returned: the image may still be signed beside).
func examineAuthenticode(f *File, anchors *Anchors) []observe.UpdateSignature {
	r, err := f.Open()
	if err != nil {
		return []observe.UpdateSignature{{Kind: "authenticode", Trust: TrustNotJudged, Reason: "image not read: " + err.Error()}}
	}
	defer r.Close()
	size, err := r.Seek(0, io.SeekEnd)
	if err != nil {
		return nil
	}
	l, err := readPELayout(r, size)
	if err != nil {
		return nil // not a PE after all (an MZ-headed blob): judged as raw
	}
	if l.certOff == 0 {
		return nil
	}
	if l.certSize > MaxSignatureSize {
		return []observe.UpdateSignature{{Kind: "authenticode", Trust: TrustNotJudged, Reason: fmt.Sprintf("certificate table larger than %d bytes: not checked", MaxSignatureSize)}}
	}
	table := make([]byte, l.certSize)
	if _, err := (&readerAt{r: r}).ReadAt(table, l.certOff); err != nil {
		return []observe.UpdateSignature{{Kind: "authenticode", Trust: TrustNotJudged, Reason: "certificate table not read: " + err.Error()}}
	}
	blobs, err := peSignatures(table)
	if len(blobs) == 0 {
		reason := "certificate table without a PKCS #7 signature"
		if err != nil {
			reason = "malformed certificate table: " + err.Error()
		}
		return []observe.UpdateSignature{{Kind: "authenticode", Checked: true, Trust: TrustNotJudged, Reason: reason}}
	}
	var out []observe.UpdateSignature
	for _, b := range blobs {
		out = append(out, checkAuthenticode(b, r, l, size, anchors))
	}
	return out
}

func checkAuthenticode(blob []byte, r io.ReadSeeker, l peLayout, size int64, anchors *Anchors) observe.UpdateSignature {
	sig := observe.UpdateSignature{Kind: "authenticode", Trust: TrustNotJudged}
	p7, err := parseCMS(blob)
	if err != nil {
		sig.Checked, sig.Reason = true, err.Error()
		return sig
	}
	// p7.Content is the SpcIndirectDataContent's contents (the SEQUENCE's body), which
	// is also what the messageDigest attribute covers.
	var spc spcIndirectData
	wrapped, _ := asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSequence, IsCompound: true, Bytes: p7.Content})
	if _, err := asn1.Unmarshal(wrapped, &spc); err != nil {
		sig.Checked, sig.Reason = true, "Authenticode content is not SpcIndirectDataContent"
		describeCMSSigner(&sig, p7)
		return sig
	}
	h, ok := hashForOID(spc.MessageDigest.Algorithm.Algorithm)
	if !ok {
		sig.Reason = "unsupported Authenticode digest " + spc.MessageDigest.Algorithm.Algorithm.String()
		describeCMSSigner(&sig, p7)
		return sig
	}
	d, err := peDigest(r, l, size, h)
	if err != nil {
		sig.Reason = "image not read: " + err.Error()
		return sig
	}
	if !bytes.Equal(d, spc.MessageDigest.Digest) {
		sig.Checked, sig.Digest = true, hashName(h)
		sig.Reason = "the PE image hash differs from the signed one: modified after signing"
		describeCMSSigner(&sig, p7)
		return sig
	}
	content := p7.Content
	sig = verifyCMS(sig, p7, func(h crypto.Hash) ([]byte, error) { return memDigest(content, h), nil }, anchors)
	if h == crypto.MD5 || h == crypto.SHA1 {
		sig.Weaknesses = uniqueSorted(append(sig.Weaknesses, "image-digest-"+hashName(h)))
	}
	return sig
}

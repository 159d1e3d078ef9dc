package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/observe"
)

// SaveAsStored is Save, after which r is the document Load(id) would read back (the
// scan's id, one finding per fingerprint with its first and last seen across the store,
// each certificate's facts and first sighting as the store holds them, times in UTC,
// evidence as decoded from what was written), normalized (findings.Report.Normalize).
// The caller renders a scan just run from memory instead of reading back what it just
// wrote, which cost a sixth of a large scan; the tests hold every format of the two to
// the same bytes.
//
// What the store adds is what the save's own statements returned; what Load derives
// from the columns (times, a sighting's endpoint, a finding's evidence) is derived here
// by the functions Load uses. When the save fails nothing is stored and r is left as it
// was given.
func (s *Store) SaveAsStored(ctx context.Context, r *findings.Report) (int64, error) {
	return s.save(ctx, r, true)
}

// save is Save, and SaveAsStored when asStored is set.
func (s *Store) save(ctx context.Context, r *findings.Report, asStored bool) (int64, error) {
	return s.saveUnder(ctx, r, asStored, s.keyID, nil)
}

// saveUnder is save for a scan whose credential hashes were made under the key keyID:
// this Store's key for a scan just run, the source's for a scan Sync copies. all, when
// not nil, gives the scan's findings in fingerprint order in place of r.Findings (Sync:
// another store's, read as they are saved); it may be walked again should inTx run the
// save again, and is not for asStored.
func (s *Store) saveUnder(ctx context.Context, r *findings.Report, asStored bool, keyID string,
	all iter.Seq2[findings.Finding, error]) (int64, error) {
	if asStored && all != nil {
		return 0, errors.New("store: a scan saved as stored takes its findings from its document")
	}
	var id int64
	stored := func(*findings.Report) {}
	// inTx may run the function again (PostgreSQL, after a collision): each run starts
	// a new writer, and r is changed only once the transaction has committed.
	err := s.inTx(ctx, false, func(tx *sql.Tx) error {
		w := &scanWriter{ctx: ctx, tx: tx, keyID: keyID, stored: asStored, all: all}
		var err error
		if id, err = w.save(r); err != nil {
			return err
		}
		if asStored {
			// Decoded before the commit, so that a document this medscan cannot read
			// back is never stored.
			if stored, err = w.asStored(r); err != nil {
				return err
			}
		}
		return nil
	})
	if errors.Is(err, errAlreadyStored) {
		return 0, err
	}
	if err != nil {
		return 0, fmt.Errorf("store: %s: saving scan: %w", s.path, err)
	}
	stored(r)
	return id, nil
}

// asStored computes what the store holds of r beyond r itself, and returns the function
// that makes r so once the transaction has committed.
func (w *scanWriter) asStored(r *findings.Report) (func(*findings.Report), error) {
	fs := make([]findings.Finding, len(w.kept))
	for k, i := range w.kept {
		f := r.Findings[i]
		f.Fingerprint = f.Identity()
		span, ok := w.spans[f.Fingerprint]
		if !ok {
			return nil, fmt.Errorf("finding %s: no first and last seen returned", f.Fingerprint)
		}
		var err error
		if f.FirstSeen, err = parseTime(span[0]); err != nil {
			return nil, err
		}
		if f.LastSeen, err = parseTime(span[1]); err != nil {
			return nil, err
		}
		f.Time = storedTime(f.Time)
		f.Evidence = w.evidence[i]
		fs[k] = f
	}
	certs := make([]findings.Certificate, len(r.Certificates))
	for i, c := range r.Certificates {
		c.SHA256 = strings.ToLower(c.SHA256)
		sc, ok := w.certs[c.SHA256]
		if !ok {
			return nil, fmt.Errorf("certificate %s: no row returned", c.SHA256)
		}
		var err error
		if c.FirstSeen, err = parseTime(sc.firstSeen); err != nil {
			return nil, err
		}
		// The store's facts: this scan's, or an earlier scan's when this one had none.
		c.CertFacts = observe.CertFacts{}
		if sc.facts != "" {
			if err := json.Unmarshal([]byte(sc.facts), &c.CertFacts); err != nil {
				return nil, fmt.Errorf("certificate %s: facts: %w", c.SHA256, err)
			}
		}
		c.DER = nil // the store keeps it; a document never carries it
		c.SeenOn = slices.Clone(c.SeenOn)
		for j := range c.SeenOn {
			sg := &c.SeenOn[j]
			sg.Time = storedTime(sg.Time)
			sg.Peer, _ = netip.ParseAddr(findings.AddrText(sg.Peer))
			setEndpoint(sg)
		}
		certs[i] = c
	}
	return func(r *findings.Report) {
		r.Scan.ID, r.Scan.UID = w.scan, w.uid
		r.Scan.Kind = r.Scan.RunKind()
		r.Scan.Started, r.Scan.Finished = storedTime(r.Scan.Started), storedTime(r.Scan.Finished)
		if r.Scan.Rules != nil {
			ids := slices.Clone(r.Scan.Rules)
			slices.Sort(ids)
			r.Scan.Rules = slices.Compact(ids)
		}
		r.Findings, r.Certificates = fs, certs
		r.Assets = slices.DeleteFunc(r.Assets, func(a findings.Asset) bool { return a.IP() == "" })
		r.Normalize()
	}, nil
}

// setEndpoint fills a sighting's endpoint from its host and port, as the store keeps
// them (an address that does not parse, a file's sighting, leaves it zero).
func setEndpoint(sg *findings.Sighting) {
	sg.Endpoint = netip.AddrPort{}
	if a, err := netip.ParseAddr(sg.Host); err == nil {
		sg.Endpoint = netip.AddrPortFrom(a, uint16(sg.Port))
	}
}

// storedTime is t as the store gives it back: UTC, clamped to years 0 to 9999 (dbTime).
func storedTime(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	t = t.UTC()
	switch {
	case t.Year() > 9999:
		return time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)
	case t.Year() < 0:
		return time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	return t
}

// evidenceAsStored is a finding's evidence as Load decodes it from text, the JSON save
// wrote of ev: decodeEvidence(text), which was a twentieth of a large scan's CPU time.
// Evidence made of what JSON keeps as it is (strings, booleans, integers, times, nested
// maps and lists of them) is converted directly, to the values the decoder gives
// (json.Number for numbers, []any for lists, the time's JSON text); anything else
// (a float, whose text encoding/json chooses; a struct; a typed map or list; a string
// that is not UTF-8) is decoded from the text, as before.
func evidenceAsStored(ev map[string]any, text string) (map[string]any, error) {
	return newAsDecoder().evidence(ev, func() string { return text })
}

// asDecodedMap is m converted directly, as asDecoder.asMap converts it.
func asDecodedMap(m map[string]any) (map[string]any, bool) {
	out, _, ok := newAsDecoder().asMap(m)
	return out, ok
}

// asDecoder converts the evidence of one scan's findings to what Load decodes
// (evidenceAsStored), sharing what the findings share. On 14,000 hosts the evidence
// as decoded was a quarter of the document as stored (70 MB), most of it lists of
// host names that the rules hand to many findings as one []string (credential-shared's
// hosts across sites) and that a conversion per finding copied into a []any of its own,
// each string boxed again. Now a value that converts to itself (a string, a boolean, a
// map of them) is kept as it is, and a list is converted once and the []any shared by
// every finding that holds it. Nothing changes evidence once judged (the writers only
// read it), and Load's own decoding gives equal values, unshared.
type asDecoder struct {
	lists map[listKey]any // the conversion of each list met, by its first element and length
}

// listKey names a list by where its elements are: one of s and a is set.
type listKey struct {
	s *string
	a *any
	n int
}

func newAsDecoder() *asDecoder { return &asDecoder{lists: map[listKey]any{}} }

// evidence is evidenceAsStored, text giving the JSON save wrote (asked for only when ev
// is nil or not converted directly).
func (d *asDecoder) evidence(ev map[string]any, text func() string) (map[string]any, error) {
	if ev != nil {
		if out, _, ok := d.asMap(ev); ok {
			return out, nil
		}
	}
	return decodeEvidence(text())
}

// asMap is m as decoded: m itself (itself true) when every value converts to itself.
func (d *asDecoder) asMap(m map[string]any) (out map[string]any, itself, ok bool) {
	itself = true
	for k, v := range m {
		if !utf8.ValidString(k) {
			return nil, false, false
		}
		_, same, ok := d.value(v)
		if !ok {
			return nil, false, false
		}
		if !same {
			itself = false
			break
		}
	}
	if itself {
		return m, true, true
	}
	out = make(map[string]any, len(m))
	for k, v := range m {
		if !utf8.ValidString(k) {
			return nil, false, false
		}
		c, _, ok := d.value(v)
		if !ok {
			return nil, false, false
		}
		out[k] = c
	}
	return out, false, true
}

// value is v as encoding/json, with UseNumber, decodes v's encoding; itself says the
// answer is v (the same interface value, nothing allocated); ok is false for a value
// it does not convert.
func (d *asDecoder) value(v any) (out any, itself, ok bool) {
	switch x := v.(type) {
	case nil:
		return nil, true, true
	case string:
		return v, true, utf8.ValidString(x)
	case bool:
		return v, true, true
	case json.Number:
		return nil, false, false // encoding/json checks and may reject it: decode the text
	case int:
		return json.Number(strconv.FormatInt(int64(x), 10)), false, true
	case int64:
		return json.Number(strconv.FormatInt(x, 10)), false, true
	case int32:
		return json.Number(strconv.FormatInt(int64(x), 10)), false, true
	case int16:
		return json.Number(strconv.FormatInt(int64(x), 10)), false, true
	case int8:
		return json.Number(strconv.FormatInt(int64(x), 10)), false, true
	case uint:
		return json.Number(strconv.FormatUint(uint64(x), 10)), false, true
	case uint64:
		return json.Number(strconv.FormatUint(x, 10)), false, true
	case uint32:
		return json.Number(strconv.FormatUint(uint64(x), 10)), false, true
	case uint16:
		return json.Number(strconv.FormatUint(uint64(x), 10)), false, true
	case uint8:
		return json.Number(strconv.FormatUint(uint64(x), 10)), false, true
	case time.Time:
		b, err := x.MarshalJSON()
		if err != nil {
			return nil, false, false
		}
		return string(b[1 : len(b)-1]), false, true // RFC 3339: nothing in it is escaped
	case []string:
		if x == nil {
			return nil, false, true
		}
		if len(x) == 0 {
			return []any{}, false, true
		}
		return d.list(listKey{s: &x[0], n: len(x)}, func(i int) (any, bool) { return x[i], utf8.ValidString(x[i]) })
	case []any:
		if x == nil {
			return nil, false, true
		}
		if len(x) == 0 {
			return []any{}, false, true
		}
		return d.list(listKey{a: &x[0], n: len(x)}, func(i int) (any, bool) {
			c, _, ok := d.value(x[i])
			return c, ok
		})
	case []map[string]any: // the credential rules' secrets
		if x == nil {
			return nil, false, true
		}
		l := make([]any, len(x))
		for i, m := range x {
			if m == nil {
				continue // null
			}
			c, _, ok := d.asMap(m)
			if !ok {
				return nil, false, false
			}
			l[i] = c
		}
		return l, false, true
	case map[string]any:
		if x == nil {
			return nil, false, true
		}
		c, same, ok := d.asMap(x)
		if !ok {
			return nil, false, false
		}
		if same {
			return v, true, true
		}
		return c, false, true
	}
	return nil, false, false
}

// list is the conversion of the list named key, whose key.n elements elem converts:
// made once and shared by every finding that holds the same list.
func (d *asDecoder) list(key listKey, elem func(i int) (any, bool)) (any, bool, bool) {
	if l, seen := d.lists[key]; seen {
		return l, false, true
	}
	l := make([]any, key.n)
	for i := range l {
		c, ok := elem(i)
		if !ok {
			return nil, false, false
		}
		l[i] = c
	}
	d.lists[key] = l
	return l, false, true
}

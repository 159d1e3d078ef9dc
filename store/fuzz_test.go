package store

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/observe"
)

// checkTidy fails unless every string in v (struct fields, list items, map keys and
// values, evidence included) is as observe.Clean leaves it: what Normalize promises of a
// document read from elsewhere.
func checkTidy(t *testing.T, v reflect.Value, path string) {
	t.Helper()
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			checkTidy(t, v.Elem(), path)
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if f := v.Type().Field(i); f.IsExported() && f.Tag.Get("json") != "-" {
				checkTidy(t, v.Field(i), path+"."+f.Name)
			}
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			checkTidy(t, v.Index(i), path+"[]")
		}
	case reflect.Map:
		for it := v.MapRange(); it.Next(); {
			checkTidy(t, it.Key(), path+"{key}")
			checkTidy(t, it.Value(), path+"{}")
		}
	case reflect.String:
		if s := v.String(); observe.Clean(s) != s {
			t.Fatalf("%s: %q is not clean after Normalize", path, s)
		}
	}
}

// checkFixedPoint fails unless a normalized report written as JSON and read back as a
// baseline is the same document: Normalize is idempotent and loses nothing it keeps.
func checkFixedPoint(t *testing.T, r *findings.Report) {
	t.Helper()
	first, err := json.Marshal(r)
	if err != nil {
		t.Fatalf("a normalized report does not encode: %v", err)
	}
	back, err := decodeBaseline(bytes.NewReader(first), "again.json")
	if err != nil {
		t.Fatalf("a normalized report does not read back: %v\n%s", err, first)
	}
	second, err := json.Marshal(back)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first, second) {
		t.Fatalf("Normalize is not a fixed point:\n%s\n%s", first, second)
	}
}

// oneLine fails unless err is one line starting with prefix.
func oneLine(t *testing.T, err error, prefix string) {
	t.Helper()
	if msg := err.Error(); !strings.HasPrefix(msg, prefix) || strings.ContainsAny(msg, "\r\n") {
		t.Fatalf("error is not one line starting %q: %q", prefix, msg)
	}
}

// FuzzDecodeBaseline: the bytes of a --baseline JSON report give a normalized report
// (every string clean, a fixed point of writing and reading back) or a one-line error
// naming the file. Seeded with reports medscan itself wrote (report/testdata) and one of
// an older medscan.
func FuzzDecodeBaseline(f *testing.F) {
	for _, name := range []string{"json.golden", "json_probe.golden", "json_empty.golden"} {
		data, err := os.ReadFile(filepath.Join("..", "report", "testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	rep := findings.NewReport(testInfo(), fullSet(), testFindings())
	data, err := json.Marshal(rep)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add([]byte(`{"schema_version": 1, "scan": {"id": 4}, "findings": [
		{"rule": "cleartext-update", "severity": "high", "host": "10.0.0.40", "port": 80, "subject": "/fw/WRD4471902.bin",
		 "message": "firmware", "fingerprint": "old1", "evidence": {"n": 1e400, "l": [null, {"\u001b": "\u0007"}]}},
		{"rule": "credential-shared", "severity": "high", "host": "10.20.0.40", "port": 8080,
		 "subject": "api-key-header@10.20.0.40:8080,10.20.0.41:8080", "message": "shared", "fingerprint": "old2"}]}`))
	f.Add([]byte(`{"schema_version": 1, "assets": [{"addr": "10.0.0.1", "macs": ["zz"]}], "services": [{}], "tls": [{}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := decodeBaseline(bytes.NewReader(data), "b.json")
		if err != nil {
			oneLine(t, err, "baseline b.json: ")
			return
		}
		checkTidy(t, reflect.ValueOf(r), "report")
		checkFixedPoint(t, r)
	})
}

// storedColumns are the JSON columns of a store that a load decodes, by the name the
// fuzz target gives each; the observation kinds (kinds.go) are the others.
var storedColumns = map[string]func(l *loader, r *findings.Report, text string) error{
	"sources": func(l *loader, r *findings.Report, s string) error {
		l.decode(s, "source list", &r.Scan.Sources)
		return l.err
	},
	"problems": func(l *loader, r *findings.Report, s string) error {
		l.decode(s, "problem list", &r.Scan.Problems)
		return l.err
	},
	"counters": func(l *loader, r *findings.Report, s string) error {
		l.decode(s, "counter list", &r.Scan.Counters)
		return l.err
	},
	"rules": func(l *loader, r *findings.Report, s string) error {
		l.decode(s, "rule list", &r.Scan.Rules)
		return l.err
	},
	"facts": func(l *loader, r *findings.Report, s string) error {
		var c findings.Certificate
		l.decode(s, "certificate facts", &c.CertFacts)
		r.Certificates = append(r.Certificates, c)
		return l.err
	},
	"asset": func(l *loader, r *findings.Report, s string) error {
		var a findings.Asset
		l.decode(s, "asset", &a)
		r.Assets = append(r.Assets, a)
		return l.err
	},
	"refs": func(l *loader, r *findings.Report, s string) error {
		var f findings.Finding
		l.decode(s, "reference list", &f.References)
		r.Findings = append(r.Findings, f)
		return l.err
	},
	"evidence": func(l *loader, r *findings.Report, s string) error {
		ev, err := decodeEvidence(s)
		r.Findings = append(r.Findings, findings.Finding{Rule: "x", Evidence: ev})
		return err
	},
	"source_set": func(l *loader, r *findings.Report, s string) error {
		_, err := sourceSet(s)
		return err
	},
}

// FuzzStoredJSON: a JSON column of a store given as --baseline (or opened by report or
// scans), decoded as a load decodes it and normalized as a load normalizes, gives a
// clean document that is a fixed point, or an error; never a panic. Seeded with every
// JSON column of a store medscan wrote from a Set holding every kind of observation.
func FuzzStoredJSON(f *testing.F) {
	s, _ := openTemp(f)
	ctx := context.Background()
	id := mustSave(f, s, testInfo(), fullSet(), testFindings())
	seed := func(query, what string) {
		rows, err := s.db.QueryContext(ctx, query, id)
		if err != nil {
			f.Fatal(err)
		}
		defer rows.Close()
		n := 0
		for rows.Next() {
			var name, data string
			if err := rows.Scan(&name, &data); err != nil {
				f.Fatal(err)
			}
			if what != "" {
				name = what
			}
			f.Add(name, []byte(data))
			n++
		}
		if n == 0 {
			f.Fatalf("no seed from %s", query)
		}
	}
	seed(`SELECT kind, data FROM observations WHERE scan_id = ?`, "")
	seed(`SELECT 'evidence', evidence FROM scan_findings WHERE scan_id = ?`, "")
	seed(`SELECT 'refs', t.refs FROM scan_findings sf JOIN rule_texts t ON t.hash = sf.text_hash WHERE sf.scan_id = ?`, "")
	seed(`SELECT 'asset', data FROM scan_assets WHERE scan_id = ?`, "")
	seed(`SELECT 'facts', c.facts FROM scan_certificates sc JOIN certificates c ON c.id = sc.cert_id WHERE sc.scan_id = ?`, "")
	for _, col := range []string{"sources", "problems", "counters", "rules"} {
		seed(`SELECT '`+col+`', coalesce(`+col+`, '') FROM scans WHERE id = ?`, "")
	}
	seed(`SELECT 'source_set', sources FROM scans WHERE id = ?`, "")
	f.Add("evidence", []byte(`{"serial": 123456789012345678901234567890, "x": [null, {"\u001b[31m": true}]}`))
	f.Add("probe_host", []byte(`{"addr": "::ffff:10.0.0.1", "ports": null}`))
	// Quiet hosts (a row holds many): fullSet is not classified, so it stores none.
	f.Add("quiet_hosts", []byte(`[{"ip": "172.16.0.1", "macs": ["00:00:0c:07:ac:14"], "first_seen": "2026-03-02T08:00:00Z",
		"last_seen": "2026-03-02T08:00:01+01:00", "packets": 1, "bytes": 33}, {"ip": "::ffff:10.0.0.1", "macs": ["\u001b[31m"]},
		{"ip": "172.16.0.1", "packets": 2}]`))
	f.Fuzz(func(t *testing.T, what string, data []byte) {
		r := &findings.Report{SchemaVersion: findings.ReportSchemaVersion}
		l := &loader{}
		var err error
		if k, ok := kindByName(what); ok {
			pool := newDecoders()
			d := k.decoder(pool, 1)
			d.row(data)
			d.flush()
			pool.wait()
			err = d.done(r)
			if err != nil {
				oneLine(t, err, "bad "+what+" row ")
			}
		} else if col, ok := storedColumns[what]; ok {
			err = col(l, r, string(data))
		} else {
			return
		}
		if err != nil {
			return
		}
		r.Normalize()
		checkTidy(t, reflect.ValueOf(r), what)
		checkFixedPoint(t, r)
	})
}

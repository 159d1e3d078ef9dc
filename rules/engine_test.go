package rules

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/observe"
)

// fakeRule emits fixed findings.
type fakeRule struct {
	meta Meta
	emit []findings.Finding
}

func (r fakeRule) Meta() Meta { return r.meta }
func (r fakeRule) Check(c *Context) {
	for _, f := range r.emit {
		c.Emit(f)
	}
}

// withRegistry runs fn with an empty registry, restoring the real one afterwards.
func withRegistry(t *testing.T, fn func()) {
	t.Helper()
	regMu.Lock()
	saved := registry
	registry = map[string]Rule{}
	regMu.Unlock()
	defer func() {
		regMu.Lock()
		registry = saved
		regMu.Unlock()
	}()
	fn()
}

func meta(id string, sev findings.Severity) Meta {
	return Meta{ID: id, Title: id, Default: sev, Rationale: "r", Remediation: "fix " + id, References: []string{"ref"}}
}

func TestRegisterPanics(t *testing.T) {
	for _, tc := range []struct {
		name string
		ids  []string
	}{
		{"duplicate", []string{"dup-rule", "dup-rule"}},
		{"uppercase", []string{"Bad-Rule"}},
		{"double hyphen", []string{"bad--rule"}},
		{"empty", []string{""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			withRegistry(t, func() {
				defer func() {
					if recover() == nil {
						t.Error("no panic")
					}
				}()
				for _, id := range tc.ids {
					Register(fakeRule{meta: meta(id, findings.Low)})
				}
			})
		})
	}
}

func TestEmitAndEvaluate(t *testing.T) {
	t1 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	t2 := t1.Add(time.Hour)
	withRegistry(t, func() {
		Register(fakeRule{meta: meta("b-rule", findings.Medium), emit: []findings.Finding{
			{Host: "10.0.0.2", Port: 443, Message: "default severity", Time: t2},
			{Host: "10.0.0.10", Port: 443, Message: "computed severity", Severity: findings.Critical, Time: t1},
			// Same identity as the first: merged, keeping the earliest time and the union of lists.
			{Host: "10.0.0.2", Port: 443, Message: "again", Time: t1, Evidence: map[string]any{"clients": []string{"b"}, "x": 1}},
		}})
		Register(fakeRule{meta: meta("a-rule", findings.Low), emit: []findings.Finding{
			{Host: "10.0.0.9", Port: 80, Message: "a", Time: t1, Source: "active", Evidence: map[string]any{"clients": []string{"a"}}},
		}})
		Register(fakeRule{meta: meta("c-rule", findings.High), emit: []findings.Finding{{Host: "10.0.0.1", Message: "c", Time: t1}}})

		fs := Evaluate(observe.NewSet(), nil)
		var got []string
		for _, f := range fs {
			got = append(got, f.Rule+" "+f.Severity.String()+" "+f.Host+" "+f.Message)
		}
		want := []string{
			"b-rule critical 10.0.0.10 computed severity",
			"c-rule high 10.0.0.1 c",
			"b-rule medium 10.0.0.2 again",
			"a-rule low 10.0.0.9 a",
		}
		if !slices.Equal(got, want) {
			t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		merged := fs[2]
		if !merged.Time.Equal(t1) || !merged.FirstSeen.Equal(t1) || !merged.LastSeen.Equal(t2) {
			t.Errorf("merged times %v %v %v", merged.Time, merged.FirstSeen, merged.LastSeen)
		}
		if merged.Evidence["x"] != 1 || merged.Remediation != "fix b-rule" || merged.Source != "passive" ||
			merged.Fingerprint != findings.ComputeFingerprint("b-rule", "10.0.0.2", 443, "") {
			t.Errorf("merged %+v", merged)
		}
		if fs[3].Source != "active" {
			t.Errorf("source %q", fs[3].Source)
		}

		pol := DefaultPolicy()
		pol.Severity["b-rule"] = findings.Info
		pol.Disabled = []string{"c-rule"}
		fs = Evaluate(observe.NewSet(), pol)
		for _, f := range fs {
			if f.Rule == "c-rule" {
				t.Error("disabled rule ran")
			}
			if f.Rule == "b-rule" && f.Severity != findings.Info {
				t.Errorf("override ignored: %v", f.Severity)
			}
		}
		if len(fs) != 3 {
			t.Errorf("got %d findings, want 3", len(fs))
		}
		// Evaluate twice: byte-for-byte the same order.
		a, b := Evaluate(observe.NewSet(), nil), Evaluate(observe.NewSet(), nil)
		for i := range a {
			if a[i].Fingerprint != b[i].Fingerprint {
				t.Fatal("order not deterministic")
			}
		}
	})
}

func TestPresentations(t *testing.T) {
	leaf, root := []byte("leaf-der"), []byte("root-der")
	set := observe.NewSet()
	t1 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, client := range []string{"10.0.0.5:1000", "10.0.0.6:1000", "10.0.0.5:1001"} {
		set.AddTLS(observe.TLSSession{
			Flow:      observe.Flow{Client: netip.MustParseAddrPort(client), Server: netip.MustParseAddrPort("192.0.2.1:443")},
			FirstSeen: t1.Add(time.Duration(i) * time.Hour), SawServerHello: true, Version: 0x0303, SNI: "pacs.local",
		}, [][]byte{leaf, root}, [][]byte{root})
	}
	set.AddTLS(observe.TLSSession{Flow: observe.Flow{Client: netip.MustParseAddrPort("10.0.0.7:1"),
		Server: netip.MustParseAddrPort("192.0.2.1:443")}, FirstSeen: t1, SawServerHello: true, Version: 0x0304, CertsEncrypted: true}, nil, nil)
	for _, c := range set.Certificates {
		c.Facts = &observe.CertFacts{Subject: string(c.DER), SelfSigned: string(c.DER) == "root-der", IsCA: string(c.DER) == "root-der"}
	}
	c := &Context{Set: set, Policy: DefaultPolicy()}
	ps := c.Presentations()
	var got []string
	for _, p := range ps {
		host, port := HostPort(p.Endpoint)
		got = append(got, p.Role+" "+host+" "+p.ChainRole()+" "+strings.Join(p.Peers, ",")+" "+p.FirstSeen.Format("15")+"-"+p.LastSeen.Format("15")+" "+strings.Join(p.SNI, ","))
		_ = port
	}
	want := []string{
		"client 10.0.0.5 leaf 192.0.2.1 00-02 ",
		"client 10.0.0.6 leaf 192.0.2.1 01-01 ",
		"server 192.0.2.1 leaf 10.0.0.5,10.0.0.6 00-02 pacs.local",
		"server 192.0.2.1 root 10.0.0.5,10.0.0.6 00-02 pacs.local",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if &c.Presentations()[0] != &ps[0] {
		t.Error("presentations rebuilt")
	}
}

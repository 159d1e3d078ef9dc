package report

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/netip"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/observe"
)

// htmlHostileSubject is what a device under an attacker's control could put in a
// certificate: markup that would run if the report pasted it into the page.
const htmlHostileSubject = `CN=<script>document.title='pwned'</script><img src=x onerror=alert(1)>,O=Evil & Co "quoted"`

// htmlHostile is a Report whose every network-controlled string carries markup, control
// characters or a NUL, with a certificate valid until 9999 and a credential and a key
// shared across hosts.
func htmlHostile() *findings.Report {
	r := empty()
	r.Scan.Label = `ward "7"<b>`
	r.Scan.Sources = []string{"caps/</style><script>alert(1)</script>.pcap"}
	r.Scan.Complete = false
	r.Scan.Problems = []findings.Problem{{Source: "caps/x.pcap", Offset: 12, Message: "bad \x1b[2J record <i>", Fatal: true}}
	r.Scan.Counters = []findings.Counter{{Name: "packets<hr>", Value: 3}}
	f := findings.Finding{Rule: "cert-self-signed", Severity: findings.Medium, Host: "10.0.0.9", Port: 443,
		Subject: strings.Repeat("ef", 32), Message: "self-signed certificate " + htmlHostileSubject + " \x00nul",
		Evidence: map[string]any{
			"subject": htmlHostileSubject,
			"nested":  map[string]any{"apps": []any{"<b onmouseover=alert(1)>LAB</b>", 3.5, true, nil}, "when": t0},
			"secrets": []any{map[string]any{"preview": "ab****yz (9 chars)", "clients": []string{"10.0.0.1", "10.0.0.2"}}},
			"empty":   []any{},
			"raw":     []byte{0xde, 0xad},
		},
		Time: t0, Source: "passive", Remediation: "Replace <it>.", References: []string{"RFC <5280>"}, FirstSeen: t0, LastSeen: t0}
	f.SetFingerprint()
	key := strings.Repeat("77", 32)
	// The rules' findings on the shared key and the shared credential below, as the
	// rules write them (the panels render them, never computing anything again).
	keyShared := findings.Finding{Rule: "key-shared", Severity: findings.High, Host: "10.0.0.9", Port: 443, Subject: key,
		Message: "10.0.0.9:443 presents the same RSA-1024 public key as 1 other: 10.0.0.10:443",
		Evidence: map[string]any{"spki_sha256": key, "subjects": []string{htmlHostileSubject},
			"shared_by": []string{"10.0.0.10:443", "10.0.0.9:443"}}, Time: t0, Source: "passive", FirstSeen: t0, LastSeen: t0}
	keyShared.SetFingerprint()
	credShared := findings.Finding{Rule: "credential-shared", Severity: findings.High, Host: "10.0.0.9", Port: 1883,
		Subject: "mqtt-password@10.0.0.9:1883", Message: "2 hosts (10.0.0.1, 10.0.0.2) sent the same mqtt-password",
		Evidence: map[string]any{"kind": "mqtt-password", "protocols": []string{"mqtt"}, "clients": []string{"10.0.0.1", "10.0.0.2"},
			"servers": []string{"10.0.0.9:1883"}, "preview": "ab****yz (9 chars)", "user": []string{"<u>"},
			"where": []string{"CONNECT"}, "count": 3}, Time: t0, Source: "passive", FirstSeen: t0, LastSeen: t0}
	credShared.SetFingerprint()
	r.Findings = []findings.Finding{keyShared, credShared, f}
	r.Summary = findings.Summary{Total: 3, High: 2, Medium: 1}
	r.Certificates = []findings.Certificate{
		{SHA256: strings.Repeat("ef", 32), CertFacts: observe.CertFacts{SPKISHA256: key, Subject: htmlHostileSubject,
			Issuer: htmlHostileSubject, NotBefore: time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC),
			NotAfter: time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC), ValidityDays: 2914000, KeyType: "rsa", KeyBits: 1024,
			SelfSigned: true, DNSNames: []string{"<svg onload=alert(1)>"}},
			SeenOn: []findings.Sighting{
				{Host: "10.0.0.9", Port: 443, CertSighting: observe.CertSighting{Role: "server", Time: t0, Source: "passive"}},
				{Host: "10.0.0.10", Port: 443, CertSighting: observe.CertSighting{Role: "server", Time: t0, Source: "passive"}},
			}},
	}
	r.Services = []findings.Service{{Host: "10.0.0.9", Port: 443, Service: observe.Service{Transport: "tcp", Protocol: "tls",
		Source: "passive", FirstSeen: t0, LastSeen: t0}, TLSVersion: "TLSv1.2", Cipher: "TLS_<x>"}}
	r.Assets = []findings.Asset{{Asset: observe.Asset{Addr: netip.MustParseAddr("10.0.0.9"), FirstSeen: t0, LastSeen: t0}}}
	r.Credentials = []findings.Credential{
		{Conversation: findings.Conversation{Client: "10.0.0.1", Host: "10.0.0.9", Port: 1883}, Credential: observe.Credential{
			Protocol: "mqtt", Kind: "mqtt-password", Where: "CONNECT", User: "<u>", Preview: "ab****yz (9 chars)", Hash: "h1",
			Count: 2, FirstSeen: t0, LastSeen: t0}},
		{Conversation: findings.Conversation{Client: "10.0.0.2", Host: "10.0.0.9", Port: 1883}, Credential: observe.Credential{
			Protocol: "mqtt", Kind: "mqtt-password", Where: "CONNECT", User: "<u>", Preview: "ab****yz (9 chars)", Hash: "h1",
			Count: 1, FirstSeen: t0, LastSeen: t0}},
	}
	r.Suppressed = []findings.SuppressedFinding{{Finding: findings.Finding{Rule: "cleartext-hl7", Severity: findings.High,
		Host: "10.0.0.7", Port: 6661, Message: "HL7 <in clear>"},
		Suppression: findings.SuppressionRef{Reason: "vendor <fix> due", Expires: "2026-06-30", Source: ".medscanignore.yaml:3"}}}
	r.Change = &findings.Change{PreviousScan: 4, PreviousStarted: t0.AddDate(0, 0, -7),
		Counts: findings.ChangeCounts{New: 1, Fixed: 1, Persisting: 0, NotAssessed: 0},
		New:    []findings.ChangedFinding{{Rule: "cert-self-signed", Severity: findings.Medium, Host: "10.0.0.9", Port: 443, Message: "new <b>"}},
		Fixed: []findings.ChangedFinding{{Rule: "tls-weak-cipher", Severity: findings.High, Host: "10.0.0.5", Port: 443,
			Message: "RC4 gone"}}}
	r.HL7 = []findings.HL7Message{{Conversation: findings.Conversation{Client: "10.0.0.1", Host: "10.0.0.9", Port: 6661},
		HL7Message: observe.HL7Message{Count: 1, FirstSeen: t0, LastSeen: t0, SendingApp: "<script>alert('hl7')</script>",
			SendingFacility: "WARD\x1b]0;title\x07", ReceivingApp: "EMR", MessageType: "ORU", TriggerEvent: "R01", Version: "2.5"}}}
	return r
}

func TestHTMLGolden(t *testing.T) {
	for _, tc := range []struct {
		name   string
		report func() *findings.Report
	}{
		{"report.html.golden", fixture},
		{"report_empty.html.golden", empty},
		{"report_hostile.html.golden", htmlHostile},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := render(t, "html", Options{}, tc.report())
			golden(t, tc.name, got)
			if again := render(t, "html", Options{}, tc.report()); !bytes.Equal(got, again) {
				t.Fatal("two renders of the same report differ")
			}
		})
	}
}

// TestHTMLEscapes holds the promise that nothing from the network becomes markup: the
// hostile strings appear as text, and no element or control character comes from them.
func TestHTMLEscapes(t *testing.T) {
	out := string(render(t, "html", Options{}, htmlHostile()))
	for _, bad := range []string{"<script", "<img", "<svg onload", "<b onmouseover", "<hr>", "<i>", "<u>", "<it>", "<x>",
		"</style><", `"7"<b>`} {
		if strings.Contains(out, bad) {
			t.Errorf("output contains %q", bad)
		}
	}
	for _, want := range []string{
		"&lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;",
		"&lt;script&gt;alert(&#39;hl7&#39;)&lt;/script&gt;",
		"&lt;b onmouseover=alert(1)&gt;LAB&lt;/b&gt;",
		"Evil &amp; Co &#34;quoted&#34;",
		`WARD\x1b]0;title\x07`, // shown, not obeyed
		`\x00nul`,
		`bad \x1b[2J record &lt;i&gt;`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	for i := 0; i < len(out); i++ {
		if c := out[i]; c < 0x20 && c != '\n' || c == 0x7f {
			t.Fatalf("control byte %#x at offset %d: %q", c, i, out[max(0, i-40):min(len(out), i+40)])
		}
	}
	// A quote in data cannot close an attribute: the one attribute value the report
	// fills from data, the timeline's tooltip, is inside an element, not an attribute.
	if strings.Contains(out, `="<`) || strings.Contains(out, `onerror=alert(1)>"`) {
		t.Error("data reached an attribute unescaped")
	}
}

var (
	htmlStyleRE = regexp.MustCompile(`(?s)<style>(.*?)</style>`)
	htmlCSPRE   = regexp.MustCompile(`<meta http-equiv="Content-Security-Policy" content="([^"]*)">`)
	htmlTagRE   = regexp.MustCompile(`<[a-zA-Z][^>]*>`)
	htmlAttrRE  = regexp.MustCompile(`\s(src|href|style|on[a-z]+|action|formaction|srcset|xlink:href)=("[^"]*"|'[^']*'|[^\s>]+)`)
	htmlNameRE  = regexp.MustCompile(`<(/?[a-zA-Z][a-zA-Z0-9]*)`)
)

// TestHTMLSelfContained checks the page needs nothing outside itself and could run
// nothing even if it tried: one stylesheet, allowed by its hash and by nothing else, no
// script, no resource, no link but in-page anchors, no inline style attribute.
func TestHTMLSelfContained(t *testing.T) {
	for name, r := range map[string]*findings.Report{"fixture": fixture(), "empty": empty(), "htmlHostile": htmlHostile()} {
		out := string(render(t, "html", Options{}, r))
		styles := htmlStyleRE.FindAllStringSubmatch(out, -1)
		// The stylesheet, and the print header naming this report (pageHeaderCSS).
		if len(styles) != 2 {
			t.Fatalf("%s: %d <style> elements; want 2", name, len(styles))
		}
		if h := styles[1][1]; !strings.HasPrefix(h, "@page {") || strings.ContainsAny(h, "<>") {
			t.Errorf("%s: the page header style is %q", name, h)
		}
		csp := htmlCSPRE.FindStringSubmatch(out)
		if csp == nil {
			t.Fatalf("%s: no Content-Security-Policy meta element", name)
		}
		policy := strings.ReplaceAll(csp[1], "&#39;", "'")
		policy = strings.ReplaceAll(policy, "&#43;", "+")
		sum := sha256.Sum256([]byte(styles[0][1]))
		sum1 := sha256.Sum256([]byte(styles[1][1]))
		want := "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum1[:]) + "' 'sha256-" +
			base64.StdEncoding.EncodeToString(sum[:]) + "'; base-uri 'none'; form-action 'none'"
		if policy != want {
			t.Errorf("%s: CSP %q; want %q (the hash must match the inline stylesheet)", name, policy, want)
		}
		if strings.Contains(styles[0][1], "url(") || strings.Contains(styles[0][1], "@import") {
			t.Errorf("%s: the stylesheet loads something", name)
		}
		for _, tag := range htmlTagRE.FindAllString(out, -1) {
			for _, m := range htmlAttrRE.FindAllStringSubmatch(tag, -1) {
				if m[1] == "href" && strings.HasPrefix(m[2], `"#`) {
					continue
				}
				t.Errorf("%s: attribute %s in %s", name, m[0], tag)
			}
		}
		for _, bad := range []string{"<script", "<link", "<iframe", "<object", "<embed", "<img", "<base", "<form", "http://", "https://"} {
			if strings.Contains(out, bad) {
				t.Errorf("%s: output contains %q", name, bad)
			}
		}
		// Every in-page link has its target.
		for _, m := range regexp.MustCompile(`href="#([^"]+)"`).FindAllStringSubmatch(out, -1) {
			if !strings.Contains(out, `id="`+m[1]+`"`) {
				t.Errorf("%s: link to #%s has no target", name, m[1])
			}
		}
		if !strings.Contains(out, "@media print") {
			t.Errorf("%s: no print stylesheet", name)
		}
	}
}

func TestHTMLContent(t *testing.T) {
	out := string(render(t, "html", Options{}, fixture()))
	for _, want := range []string{
		"<title>medscan report: scan 3 (ward 7)</title>", "INCOMPLETE", "captures/icu.pcapng: offset 81920: truncated record (reading stopped here)",
		`id="rule-cleartext-hl7"`, `href="#rule-cleartext-hl7"`, "[2001:db8::1]:1883", "Wrap MLLP in TLS.", "HIPAA 45 CFR 164.312(e)",
		`<dt>Patient segments</dt><dd>4</dd>`, "tcp_gap_bytes", "http_shapes_not_kept", `CN=pacs\x1b[2J.example`,
		"Not observable:", "(&#43;2 more)", "not examined, sha256:abababababababab", "2024-03-05 10:20:30 UTC to 2024-03-05 11:20:30 UTC (1h0m0s)",
		`class="sevchart"`, "Validity timeline", "<title>CN=Hospital Issuing CA,O=St. Example Hospital",
		"No credential seen in clear was used by more than one host.", "/api/status?&lt;x&gt;", "LAB", "MODALITY",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	if strings.Contains(out, "flows_evicted") {
		t.Error("HTML lists a zero counter")
	}
	// Rules most severe first, in the summary and in the body.
	if c, h, l := strings.Index(out, `id="rule-cleartext-hl7"`), strings.Index(out, `id="rule-tls-weak-cipher"`),
		strings.Index(out, `id="rule-cert-expiring-soon"`); !(c < h && h < l) {
		t.Errorf("rule groups out of order: critical@%d high@%d low@%d", c, h, l)
	}
	// A severity is never told by colour alone.
	if !regexp.MustCompile(`<span class="sev sev-critical">critical</span>`).MatchString(out) {
		t.Error("severity chip without its name")
	}
	// Empty scan: no chart bars, no timeline, no findings, and it says so.
	if strings.Contains(out, `id="change"`) || strings.Contains(out, `id="suppressed"`) {
		t.Error("a change or suppressed section without the data")
	}
	h := string(render(t, "html", Options{}, htmlHostile()))
	for _, want := range []string{`<h3 id="change">Change since scan 4 (2024-02-27 10:20:30 UTC)</h3>`, "<h4>New (1)</h4>",
		"2: <code>10.0.0.10:443</code>, <code>10.0.0.9:443</code>", `href="#rule-key-shared"`, `href="#rule-credential-shared"`,
		"<h4>Fixed (1)</h4>", "RC4 gone", "new &lt;b&gt;", `<h3 id="suppressed">Suppressed findings (1)</h3>`,
		"vendor &lt;fix&gt; due", "2026-06-30", ".medscanignore.yaml:3"} {
		if !strings.Contains(h, want) {
			t.Errorf("HTML with a change and a suppression lacks %q", want)
		}
	}
	if strings.Contains(h, "Not assessed again (") {
		t.Error("an empty change list is shown")
	}
	e := string(render(t, "html", Options{}, empty()))
	for _, want := range []string{"No findings.", "No assets seen.", "No certificates seen.", "complete</span>"} {
		if !strings.Contains(e, want) {
			t.Errorf("empty HTML lacks %q", want)
		}
	}
	if strings.Contains(e, "Validity timeline") || strings.Contains(e, `class="bar-`) || strings.Contains(e, "INCOMPLETE") {
		t.Error("empty HTML draws what it does not have")
	}
}

func TestHTMLAssetColumns(t *testing.T) {
	r := fixture()
	out := string(render(t, "html", Options{}, r))
	if !strings.Contains(out, "<th>Services</th>") {
		t.Error("Services column missing though the data has them")
	}
	if mac := r.Assets[0].MAC; mac == "" || !strings.Contains(out, `<code class="small">`+mac+`</code>`) {
		t.Errorf("the MAC %q is not under the address", mac)
	}
	for i := range r.Assets {
		r.Assets[i].MAC, r.Assets[i].MACs = "", nil
	}
	r.Services = nil
	out = string(render(t, "html", Options{}, r))
	if strings.Contains(out, "<th>Services</th>") {
		t.Error("Services column shown without services")
	}
}

func TestHTMLTimelineClamp(t *testing.T) {
	r := htmlHostile()
	tl := htmlTimeline(r.Certificates, t0, "the end of the capture", t0.Add(400*24*time.Hour), nil)
	if tl == nil {
		t.Fatal("no timeline for a dated certificate")
	}
	last := tl.Ticks[len(tl.Ticks)-1].Label
	first := tl.Ticks[0].Label
	if first < "1990" || last > "2060" || len(tl.Ticks) > 12 {
		t.Errorf("axis %s..%s with %d ticks; want it clamped to about 30 years either side of 2024", first, last, len(tl.Ticks))
	}
	row := tl.Rows[0]
	if !row.ClipLeft || !row.ClipRight || !tl.Clipped {
		t.Errorf("a 1950-9999 certificate is not marked clipped: %+v", row)
	}
	if row.X < tl.Left || row.X+row.W > tl.Right {
		t.Errorf("bar %d..%d leaves the plot %d..%d", row.X, row.X+row.W, tl.Left, tl.Right)
	}
	if len(tl.Marks) != 2 {
		t.Errorf("marks %+v; want the capture and, 400 days later, the scan", tl.Marks)
	}
	for _, m := range tl.Marks {
		if m.X < tl.Left || m.X > tl.Right {
			t.Errorf("mark %+v off the plot", m)
		}
	}
	if htmlTimeline([]findings.Certificate{{SHA256: "aa"}}, t0, "", t0, nil) != nil {
		t.Error("a timeline without a dated certificate")
	}
	// Many certificates: the soonest expiring are drawn, the rest counted.
	var many []findings.Certificate
	for i := range maxTimelineRows + 5 {
		many = append(many, findings.Certificate{SHA256: "x", CertFacts: observe.CertFacts{Subject: "CN=c", NotBefore: t0,
			NotAfter: t0.AddDate(0, 0, maxTimelineRows+5-i)}})
	}
	tl = htmlTimeline(many, t0, "", t0, nil)
	if len(tl.Rows) != maxTimelineRows || tl.Omitted != 5 {
		t.Errorf("%d rows, %d omitted; want %d and 5", len(tl.Rows), tl.Omitted, maxTimelineRows)
	}
}

func TestHTMLCertStatus(t *testing.T) {
	c := findings.Certificate{CertFacts: observe.CertFacts{NotBefore: t0, NotAfter: t0.AddDate(1, 0, 0)}}
	for _, tc := range []struct {
		at   time.Time
		want string
	}{
		{t0.AddDate(0, 1, 0), "valid"},
		{t0.AddDate(0, 0, 350), "soon"},
		{t0.AddDate(2, 0, 0), "expired"},
		{t0.AddDate(0, 0, -1), "future"},
		{time.Time{}, "unknown"},
	} {
		if _, got := htmlCertStatus(c, tc.at); got != tc.want {
			t.Errorf("status at %v = %s; want %s", tc.at, got, tc.want)
		}
	}
}

// TestHTMLSharedPanels checks the shared keys and credentials panels show the rules'
// findings, whether the evidence comes as the rules built it or as JSON read it back,
// and nothing else: which hosts share a key or a secret is the rules' to decide.
func TestHTMLSharedPanels(t *testing.T) {
	r := htmlHostile()
	keys, creds := htmlSharedKeys(r.Findings), htmlSharedCreds(r.Findings)
	wantKey := sharedKey{SPKI: strings.Repeat("77", 32), Certs: []string{htmlHostileSubject},
		Hosts: []string{"10.0.0.10:443", "10.0.0.9:443"}}
	wantCred := sharedCred{Kind: "mqtt-password", Protocol: "mqtt", User: "<u>", Preview: "ab****yz (9 chars)", Where: "CONNECT",
		Clients: []string{"10.0.0.1", "10.0.0.2"}, Servers: []string{"10.0.0.9:1883"}, Count: 3}
	if !reflect.DeepEqual(keys, []sharedKey{wantKey}) || !reflect.DeepEqual(creds, []sharedCred{wantCred}) {
		t.Fatalf("panels:\n%+v\n%+v", keys, creds)
	}
	// The same findings as a store gives them back: JSON numbers and lists.
	var back []findings.Finding
	b, _ := json.Marshal(r.Findings)
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&back); err != nil {
		t.Fatal(err)
	}
	if got := htmlSharedKeys(back); !reflect.DeepEqual(got, []sharedKey{wantKey}) {
		t.Errorf("keys from JSON: %+v", got)
	}
	if got := htmlSharedCreds(back); !reflect.DeepEqual(got, []sharedCred{wantCred}) {
		t.Errorf("credentials from JSON: %+v", got)
	}
	// Shared data without the rules' findings shows nothing: the credentials and the key
	// above are still in the report, but no rule said they are shared.
	r.Findings = r.Findings[2:]
	if htmlSharedKeys(r.Findings) != nil || htmlSharedCreds(r.Findings) != nil {
		t.Error("a panel computed sharing by itself")
	}
	out := string(render(t, "html", Options{}, r))
	for _, want := range []string{"No key was presented as its own by more than one host", "No credential seen in clear was used by more than one host."} {
		if !strings.Contains(out, want) {
			t.Errorf("HTML without the rules' findings lacks %q", want)
		}
	}
}

func TestHTMLEvidence(t *testing.T) {
	var decoded map[string]any
	if err := json.Unmarshal([]byte(`{"b":[1,"x"],"a":{"c":[{"d":null}]},"e":[]}`), &decoded); err != nil {
		t.Fatal(err)
	}
	n := htmlEvidence(reflect.ValueOf(decoded), 0)
	if !n.IsMap || len(n.Fields) != 3 || n.Fields[0].Key != "A" || n.Fields[1].Key != "B" || n.Fields[2].Key != "E" {
		t.Fatalf("keys not sorted: %+v", n.Fields)
	}
	if b := n.Fields[1].Val; !b.IsList || !b.Flat || b.Items[0].Text != "1" || b.Items[1].Text != "x" {
		t.Errorf("flat list: %+v", b)
	}
	if c := n.Fields[0].Val.Fields[0].Val; !c.IsList || c.Flat || c.Items[0].Fields[0].Val.Text != "none" {
		t.Errorf("list of maps: %+v", c)
	}
	if !n.Fields[2].Val.Empty {
		t.Error("empty list not marked empty")
	}
	// Deep nesting stops at maxEvidenceDepth.
	var deep any = "bottom"
	for range maxEvidenceDepth + 5 {
		deep = []any{deep}
	}
	d := htmlEvidence(reflect.ValueOf(deep), 0)
	for range maxEvidenceDepth {
		d = d.Items[0]
	}
	if !d.Deepest || d.Text != "…" {
		t.Errorf("nesting not cut at depth %d: %+v", maxEvidenceDepth, d)
	}
	for _, tc := range []struct {
		in   any
		want string
	}{
		{[]byte{1, 0xab}, "01ab"}, {true, "yes"}, {2.5, "2.5"}, {json.Number("7"), "7"}, {t0, "2024-03-05 10:20:30 UTC"},
		{"a\x1bb", `a\x1bb`}, {(*int)(nil), "none"},
	} {
		if got := htmlEvidence(reflect.ValueOf(tc.in), 0).Text; got != tc.want {
			t.Errorf("evidence %#v rendered %q; want %q", tc.in, got, tc.want)
		}
	}
}

// tagNames is the sequence of element names, opening and closing, in a page.
func tagNames(page []byte) string {
	var b strings.Builder
	for _, m := range htmlNameRE.FindAllSubmatch(page, -1) {
		b.Write(m[1])
		b.WriteByte(' ')
	}
	return b.String()
}

// FuzzHTMLText puts arbitrary text in every kind of place the network fills and checks
// that it never becomes markup or a control character in the page: the page has the same
// elements, in the same order, as with harmless text in those places.
func FuzzHTMLText(f *testing.F) {
	for _, s := range []string{"<script>alert(1)</script>", "\x00", "</style>", `"'><img src=x>`, "\x1b[2J", "&lt;", "\xff\xfe", "]]>", "<!--", "<dd>&lt;"} {
		f.Add(s)
	}
	page := func(t *testing.T, s string) []byte {
		r := htmlHostile()
		r.Scan.Label = s
		f := &r.Findings[len(r.Findings)-1] // the one medium finding: its group's place does not depend on its name
		f.Message = s
		f.Rule = s
		f.Evidence = map[string]any{s: []any{s, map[string]any{s: s}}}
		r.Certificates[0].Subject = "CN=" + s
		r.HL7[0].SendingApp = s
		r.Assets[0].Manufacturer = s
		return render(t, "html", Options{}, r)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if strings.TrimSpace(s) == "" {
			return // empty or blank text takes other branches (a blank maker hides the column); the seeds cover the page without it
		}
		out := page(t, s)
		if got, want := tagNames(out), tagNames(page(t, "x")); got != want {
			t.Fatalf("text %q changed the page's elements:\n got %s\nwant %s", s, got, want)
		}
		for i, c := range out {
			if c < 0x20 && c != '\n' || c == 0x7f {
				t.Fatalf("control byte %#x at %d for %q", c, i, s)
			}
		}
		// The stylesheet and the print header, which carries the label (pageHeaderCSS):
		// nothing in it may end its string or its element.
		if n := bytes.Count(out, []byte("<style>")); n != 2 {
			t.Fatalf("%d <style> for %q", n, s)
		}
		if m := htmlStyleRE.FindAllSubmatch(out, -1); len(m) != 2 || bytes.ContainsAny(m[1][1], "<>\n") ||
			bytes.Count(m[1][1], []byte(`"`)) != 6 {
			t.Fatalf("the page header style for %q is %q", s, m[1][1])
		}
	})
}

func TestHTMLCatalog(t *testing.T) {
	cat := []findings.RuleInfo{
		{ID: "cleartext-hl7", Title: "HL7 <v2> in clear", Rationale: "Anyone on the segment reads results.", Remediation: "Use TLS."},
		{ID: "cleartext-credentials", Title: "Credentials in clear", Remediation: "Move the service to TLS.", References: []string{"RFC 7617"}},
	}
	out := string(render(t, "html", Options{Catalog: findings.NewCatalog(cat)}, fixture()))
	for _, want := range []string{
		`<span class="title">HL7 &lt;v2&gt; in clear</span>`, "<h4>Why it matters</h4><p>Anyone on the segment reads results.</p>",
		"Move the service to TLS.", "<li>RFC 7617</li>", // the finding carries none: the catalog's
		"Wrap MLLP in TLS.", // the finding's own remediation wins
	} {
		if !strings.Contains(out, want) {
			t.Errorf("HTML with the catalog lacks %q", want)
		}
	}
	if strings.Contains(out, "<p>Use TLS.</p>") {
		t.Error("the catalog's remediation replaced the finding's")
	}
	if plain := string(render(t, "html", Options{}, fixture())); strings.Contains(plain, "Why it matters") {
		t.Error("a rationale without a catalog")
	}
}

// TestSiteShown: a scan made with --site names its site on the HTML cover, in the page's
// title and appendix, and in the table's header, beside its label; without a site the
// cover keeps the label alone.
func TestSiteShown(t *testing.T) {
	r := fixture()
	r.Scan.Site = "north <campus>"
	h := string(render(t, "html", Options{}, r))
	for _, want := range []string{"<title>medscan report: scan 3 (north &lt;campus&gt; · ward 7)</title>",
		`<p class="site">north &lt;campus&gt; · ward 7`, "<dt>Site</dt><dd>north &lt;campus&gt;</dd><dt>Label</dt><dd>ward 7</dd>",
		"<dd>3 at site &ldquo;north &lt;campus&gt;&rdquo; (label &ldquo;ward 7&rdquo;)</dd>"} {
		if !strings.Contains(h, want) {
			t.Errorf("HTML of a scan with a site lacks %q", want)
		}
	}
	if tb := string(render(t, "table", Options{}, r)); !regexp.MustCompile(`(?m)^Site: +north <campus>$`).MatchString(tb) {
		t.Errorf("table header does not name the site:\n%s", tb[:min(len(tb), 600)])
	}
	r.Scan.Site = ""
	if h := string(render(t, "html", Options{}, r)); strings.Contains(h, "<dt>Site</dt>") || !strings.Contains(h, "<dt>Site or label</dt><dd>ward 7</dd>") {
		t.Error("a scan without a site is shown with one")
	}
}

package report

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/owenrumney/go-sarif/v2/sarif"

	"github.com/medscan/medscan/findings"
)

func init() {
	Scan.register("sarif", func(o Options) Writer[*findings.Report] {
		return sarifWriter{rules: o.Catalog.Sorted(), repos: o.Repos}
	})
}

// InformationURI is where the SARIF output says medscan is described.
const InformationURI = "https://github.com/medscan/medscan"

// FingerprintKey names medscan's fingerprint among a SARIF result's partialFingerprints.
// It is versioned, as SARIF asks, because code scanning matches alerts across uploads
// by it: if findings.ComputeFingerprint ever changes, so must this key.
const FingerprintKey = "medscanFingerprint/v1"

// sarifWriter renders a scan as SARIF 2.1.0 for code scanning services (GitHub code
// scanning, Azure DevOps, IDE viewers): one run, one reportingDescriptor per rule, one
// result per finding.
//
// Where a result is. SARIF was made for source files, and GitHub code scanning attaches
// a result to a repository only through a physicalLocation whose artifactLocation is a
// file of that repository (its upload tools skip other URI schemes, and a server may
// reject them). A medscan finding is about a network asset, not a line of a file, so
// each result carries two locations in one:
//   - a logicalLocation naming the asset: kind "service" for host:port, "host" for a
//     host, "certificate" for a certificate seen only in a file;
//   - a physicalLocation naming the file the finding came from, by the first rule that
//     applies (sarifArtifact): a capture file the scan read that lies in a git
//     repository (Options.Repos), as its path from the repository's root with uriBaseId
//     %SRCROOT%; for a certificate or key read from a file, that file; else the policy
//     file the scan was judged by (in a repository, relative to its root; else as
//     given); else the scan's first source file, as a file:// URI. A scan of live
//     traffic or of targets alone, judged by the default policy, has no file to name:
//     its results carry the logical location only (give --policy FILE, kept in the
//     repository, for code scanning).
//
// No region is given: no line of a capture file holds a finding, and a made-up line 1
// would make every result of a file share the line hash upload tools compute. When a
// scan read several captures, a finding does not say which one showed it: results
// point at the first capture, in the order the scan read them, that lies in a
// repository. Keep recurring captures at a stable path (captures/ward.pcapng rather
// than a dated name): code scanning treats a result at a new path as a new alert. The
// capture files are listed in run.artifacts with the role analysisTarget.
//
// Alert identity across uploads comes from partialFingerprints[FingerprintKey], the
// finding's own fingerprint (rule, host, port, subject). primaryLocationLineHash is left
// for upload tools to compute, as GitHub documents it is theirs.
//
// Severity. A result's level is error for critical and high, warning for medium, note
// for low and info. Code scanning ranks security alerts by the rule's
// properties["security-severity"], a CVSS-like score; medscan gives the midpoint of
// each CVSS band (critical 9.5, high 8.0, medium 5.5, low 2.0, info 0.0), clear of the
// band edges GitHub documents ("over 9.0" is critical). The score is that of the
// highest of the rule's default severity and the severities of this scan's findings
// under it, so a finding raised above its rule's default (cleartext HL7 with patient
// segments is critical) is not shown as less serious than it is.
type sarifWriter struct {
	rules []findings.RuleInfo
	repos map[string]string // Options.Repos
}

// Write renders r as an indented SARIF 2.1.0 log with a trailing newline. A scan
// streamed from the store (findings.Report.Stream) is written a result at a time, in
// the bytes of the whole log (streamSARIF).
func (s sarifWriter) Write(w io.Writer, r *findings.Report) error {
	if r == nil {
		return fmt.Errorf("report: sarif: no report")
	}
	if r.Stream != nil {
		done, err := s.streamSARIF(w, r)
		if done || err != nil {
			return err
		}
		fs, err := r.Stream.Collect()
		if err != nil {
			return err
		}
		r.Findings, r.Stream = fs, nil
	}
	log, err := sarifLog(r, s.rules, s.repos)
	if err != nil {
		return fmt.Errorf("report: sarif: %w", err)
	}
	var b bytes.Buffer
	if err := log.PrettyWrite(&b); err != nil {
		return fmt.Errorf("report: sarif: %w", err)
	}
	b.WriteByte('\n')
	if _, err := w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("report: sarif: %w", err)
	}
	return nil
}

// streamSARIF writes a streamed scan's log: the log without its results, as the
// go-sarif library writes it (json.MarshalIndent), cut where its one empty results list
// is, and each result encoded there as MarshalIndent would within the whole. The
// rules' descriptors come first in the log and are of every rule with a finding: the
// rules and their worst severities are the store's groups (FindingStream.Groups). A
// scan with a finding of a rule the catalog lacks, whose descriptor is made from the
// rule's first finding, is not streamed: done is false, and nothing was written.
func (s sarifWriter) streamSARIF(w io.Writer, r *findings.Report) (done bool, err error) {
	fail := func(err error) (bool, error) { return true, fmt.Errorf("report: sarif: %w", err) }
	groups, err := r.Stream.Groups()
	if err != nil {
		return true, err
	}
	known := map[string]bool{}
	for _, ri := range s.rules {
		known[ri.ID] = true
	}
	worst := map[string]findings.Severity{}
	for _, g := range groups {
		if !known[g.Rule] {
			return false, nil
		}
		if cur, ok := worst[g.Rule]; !ok || g.Severity > cur {
			worst[g.Rule] = g.Severity
		}
	}
	log, run, scanFile, err := sarifRun(r, s.rules, worst, s.repos)
	if err != nil {
		return fail(err)
	}
	run.Results = []*sarif.Result{}
	var b bytes.Buffer
	if err := log.PrettyWrite(&b); err != nil {
		return fail(err)
	}
	key := []byte(`"results": []`)
	at := bytes.Index(b.Bytes(), key)
	if at < 0 || bytes.Count(b.Bytes(), key) != 1 {
		return fail(fmt.Errorf("unexpected log shape: %d empty result lists", bytes.Count(b.Bytes(), key)))
	}
	head, tail := b.Bytes()[:at+len(key)-len("[]")], b.Bytes()[at+len(key):]
	indent := string(head[bytes.LastIndexByte(head, '\n')+1:])
	indent = indent[:len(indent)-len(strings.TrimLeft(indent, " "))] // the key's line's indentation
	inner := indent + "  "
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.Write(head)
	scratch := sarif.Run{Tool: run.Tool} // AddResult sets each result's ruleIndex from the driver
	n := 0
	for f, err := range r.Stream.All {
		if err != nil {
			return true, err
		}
		scratch.Results = scratch.Results[:0]
		scratch.AddResult(sarifResult(f, scanFile, s.repos))
		e, err := json.MarshalIndent(scratch.Results[0], inner, "  ")
		if err != nil {
			return fail(err)
		}
		if n == 0 {
			bw.WriteString("[\n" + inner)
		} else {
			bw.WriteString(",\n" + inner)
		}
		n++
		bw.Write(e)
	}
	if n == 0 {
		bw.WriteString("[]")
	} else {
		bw.WriteString("\n" + indent + "]")
	}
	bw.Write(tail)
	bw.WriteByte('\n')
	if err := bw.Flush(); err != nil {
		return fail(err)
	}
	return true, nil
}

func sarifLog(r *findings.Report, catalog []findings.RuleInfo, repos map[string]string) (*sarif.Report, error) {
	// The highest severity each rule has in this scan, for its security-severity.
	worst := map[string]findings.Severity{}
	for _, f := range r.Findings {
		if cur, ok := worst[f.Rule]; !ok || f.Severity > cur {
			worst[f.Rule] = f.Severity
		}
	}
	log, run, scanFile, err := sarifRun(r, ruleInfos(r.Findings, catalog), worst, repos)
	if err != nil {
		return nil, err
	}
	for _, f := range r.Findings {
		run.AddResult(sarifResult(f, scanFile, repos)) // sets ruleIndex: every finding's rule has a descriptor
	}
	return log, nil
}

// sarifRun is the log of one run without its results: the rules' descriptors (infos,
// each at the highest of its default severity and worst[its ID]), the artifacts, the
// invocation and the scan's properties; scanFile is what results point at
// (sarifArtifact).
func sarifRun(r *findings.Report, infos []findings.RuleInfo, worst map[string]findings.Severity,
	repos map[string]string) (*sarif.Report, *sarif.Run, *sarif.ArtifactLocation, error) {
	log, err := sarif.New(sarif.Version210)
	if err != nil {
		return nil, nil, nil, err
	}
	name := r.Tool.Name
	if name == "" {
		name = "medscan"
	}
	driver := sarif.NewDriver(name).WithInformationURI(InformationURI)
	if r.Tool.Version != "" {
		driver.WithVersion(r.Tool.Version)
	}
	run := sarif.NewRun(*sarif.NewTool(driver))
	for _, ri := range infos {
		sev := ri.Default
		if w, ok := worst[ri.ID]; ok && w > sev {
			sev = w
		}
		driver.AddRule(descriptor(ri, sev))
	}

	for _, src := range r.Scan.Sources {
		run.Artifacts = append(run.Artifacts, &sarif.Artifact{
			Location: repoLocation(src, repos),
			Length:   -1, // unknown; 0 would claim an empty file
			Roles:    []string{"analysisTarget"},
		})
	}
	scanFile := sarifArtifact(r.Scan, repos)
	run.Invocations = []*sarif.Invocation{invocation(r)}
	run.Properties = sarif.Properties{
		"scan_id":  r.Scan.ID,
		"label":    r.Scan.Label,
		"policy":   r.Scan.Policy,
		"complete": r.Scan.Complete,
		"sources":  r.Scan.Sources,
	}
	log.AddRun(run)
	return log, run, scanFile, nil
}

// sarifResult is one finding's result, without its ruleIndex (Run.AddResult sets it).
func sarifResult(f findings.Finding, scanFile *sarif.ArtifactLocation, repos map[string]string) *sarif.Result {
	res := sarif.NewRuleResult(f.Rule).
		WithLevel(level(f.Severity)).
		WithMessage(sarif.NewTextMessage(sarifText(cmp.Or(f.Message, f.Rule)))).
		WithLocations([]*sarif.Location{assetLocation(f, scanFile, repos)})
	res.PartialFingerprints = map[string]any{FingerprintKey: f.Fingerprint}
	props := sarif.Properties{
		"severity":   f.Severity.String(),
		"host":       f.Host,
		"port":       f.Port,
		"evidence":   f.Evidence,
		"source":     f.Source,
		"time":       rfc3339(f.Time),
		"first_seen": rfc3339(f.FirstSeen),
		"last_seen":  rfc3339(f.LastSeen),
	}
	if f.Subject != "" {
		props["subject"] = f.Subject
	}
	if f.File != "" {
		props["file"] = f.File
	}
	res.Properties = props
	return res
}

// ruleInfos is the catalog with, added in ID order, a description derived from the
// findings of every rule the catalog lacks (all of them when no catalog was given), so
// every result has a descriptor to point at.
func ruleInfos(fs []findings.Finding, catalog []findings.RuleInfo) []findings.RuleInfo {
	out := slices.Clone(catalog)
	known := map[string]bool{}
	for _, ri := range catalog {
		known[ri.ID] = true
	}
	var derived []findings.RuleInfo
	for _, f := range fs {
		if known[f.Rule] {
			continue
		}
		known[f.Rule] = true
		derived = append(derived, findings.RuleInfo{ID: f.Rule, Title: f.Rule, Default: f.Severity,
			Remediation: f.Remediation, References: f.References})
	}
	slices.SortFunc(derived, func(a, b findings.RuleInfo) int { return cmp.Compare(a.ID, b.ID) })
	return append(out, derived...)
}

// securitySeverity is GitHub code scanning's score for each severity (see sarifWriter).
var securitySeverity = map[findings.Severity]string{
	findings.Critical: "9.5",
	findings.High:     "8.0",
	findings.Medium:   "5.5",
	findings.Low:      "2.0",
	findings.Info:     "0.0",
}

func level(s findings.Severity) string {
	switch {
	case s >= findings.High:
		return "error"
	case s == findings.Medium:
		return "warning"
	}
	return "note"
}

func descriptor(ri findings.RuleInfo, sev findings.Severity) *sarif.ReportingDescriptor {
	title := cmp.Or(ri.Title, ri.ID)
	d := sarif.NewRule(ri.ID).WithName(ruleName(ri.ID)).
		WithShortDescription(sarif.NewMultiformatMessageString(title)).
		WithDefaultConfiguration(sarif.NewReportingConfiguration().WithLevel(level(ri.Default)))
	if ri.Rationale != "" {
		d.WithFullDescription(sarif.NewMultiformatMessageString(ri.Rationale))
	}
	var text, md strings.Builder
	text.WriteString(title + ".")
	md.WriteString("**" + mdEscape(title) + "**")
	if ri.Rationale != "" {
		text.WriteString("\n\n" + ri.Rationale)
		md.WriteString("\n\n" + mdEscape(ri.Rationale))
	}
	if ri.Remediation != "" {
		text.WriteString("\n\nRemediation: " + ri.Remediation)
		md.WriteString("\n\n**Remediation:** " + mdEscape(ri.Remediation))
	}
	if len(ri.References) > 0 {
		text.WriteString("\n\nReferences:")
		md.WriteString("\n\n**References:**\n")
		for _, ref := range ri.References {
			text.WriteString("\n- " + ref)
			md.WriteString("\n- " + mdEscape(ref))
		}
	}
	d.WithHelp(sarif.NewMultiformatMessageString(text.String()).WithMarkdown(md.String()))
	d.Properties = sarif.Properties{
		"security-severity": securitySeverity[sev],
		"tags":              ruleTags(ri),
		"default_severity":  ri.Default.String(),
	}
	return d
}

// ruleName turns a rule ID into the PascalCase name SARIF suggests (cert-expired →
// CertExpired); the ID stays the stable key.
func ruleName(id string) string {
	var b strings.Builder
	for _, part := range strings.Split(id, "-") {
		if part == "" {
			continue
		}
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

// ruleTags are the descriptor's tags: "security", which code scanning needs to treat
// the alert as a security alert, the rule's declared domain, and its declared tags
// ("clinical"); nothing is read from the rule's ID.
func ruleTags(ri findings.RuleInfo) []string {
	tags := []string{"security"}
	if ri.Covers.Domain != "" {
		tags = append(tags, string(ri.Covers.Domain))
	}
	return append(tags, ri.Covers.Tags...)
}

// srcRoot is the uriBaseId code scanning resolves against the repository's root.
const srcRoot = "%SRCROOT%"

// repoLocation is a file as an artifact location: its path from the root of the
// repository it lies in, with uriBaseId %SRCROOT%, when Options.Repos knows one; else
// the path as a URI reference (fileURI).
func repoLocation(path string, repos map[string]string) *sarif.ArtifactLocation {
	if rel, ok := repos[path]; ok && rel != "" && filepath.IsLocal(filepath.FromSlash(rel)) {
		return sarif.NewSimpleArtifactLocation((&url.URL{Path: rel}).String()).WithUriBaseId(srcRoot)
	}
	return sarif.NewSimpleArtifactLocation(fileURI(path))
}

// sarifArtifact is the file a scan's results point at (see sarifWriter), nil when the
// scan read no file and was judged by the default policy.
func sarifArtifact(s findings.ScanInfo, repos map[string]string) *sarif.ArtifactLocation {
	for _, src := range s.Sources {
		if _, ok := repos[src]; ok {
			return repoLocation(src, repos)
		}
	}
	if p := PolicyFile(s.Policy); p != "" {
		return repoLocation(p, repos)
	}
	for _, src := range s.Sources {
		if filepath.IsAbs(src) {
			return sarif.NewSimpleArtifactLocation(fileURI(src))
		}
	}
	return nil
}

// PolicyFile is the policy file a scan names (ScanInfo.Policy: "file PATH sha256:…", as
// rules.Policy describes one), "" for the default policy.
func PolicyFile(describe string) string {
	rest, ok := strings.CutPrefix(describe, "file ")
	if !ok {
		return ""
	}
	if i := strings.LastIndex(rest, " sha256:"); i >= 0 {
		rest = rest[:i]
	}
	return rest
}

// assetLocation names the asset a finding is about, logically, and the file it came
// from, physically (see sarifWriter): for a certificate or key read from a file, that
// file; otherwise scanFile, the scan's own (none when nil).
func assetLocation(f findings.Finding, scanFile *sarif.ArtifactLocation, repos map[string]string) *sarif.Location {
	var name, kind string
	art := scanFile
	switch {
	case f.Host != "" && f.Port != 0:
		name, kind = hostPort(f.Host, f.Port), "service"
	case f.Host != "":
		name, kind = uriHost(f.Host), "host"
	case f.File != "":
		// A certificate or key read from a file is in that file: the path as the user
		// gave it (relative to where medscan ran), or from its repository's root; the
		// logical name is its place in the file.
		path, _, _ := findings.ParseFileRef(f.File)
		name, kind = f.File, "certificate"
		art = repoLocation(cmp.Or(path, f.File), repos)
	default:
		name, kind = f.Subject, "certificate"
	}
	full := name
	if f.Subject != "" && (kind != "certificate" || f.File != "") {
		full += "/" + f.Subject
	}
	loc := sarif.NewLocation()
	if art != nil {
		loc.WithPhysicalLocation(sarif.NewPhysicalLocation().WithArtifactLocation(art))
	}
	loc.AddLogicalLocations(sarif.NewLogicalLocation().WithName(name).WithFullyQualifiedName(full).WithKind(kind))
	return loc
}

// hostPort joins a host and a port as a URI authority, with an IPv6 address bracketed.
func hostPort(host string, port int) string {
	return uriHost(host) + ":" + strconv.Itoa(port)
}

// uriHost is host as it may stand in a URI authority: an IP address as is (IPv6 in
// brackets), anything else percent-escaped so a hostile name cannot add a path or query.
func uriHost(host string) string {
	if a, err := netip.ParseAddr(host); err == nil {
		switch {
		case a.Is4In6():
			return a.Unmap().String()
		case a.Is6():
			// RFC 6874 writes a zone's % as %25 inside the brackets.
			return "[" + strings.Replace(a.String(), "%", "%25", 1) + "]"
		}
		return a.String()
	}
	return url.PathEscape(host)
}

// fileURI is a capture path as a URI reference: relative paths stay relative (with
// forward slashes), absolute ones become file:// URIs.
func fileURI(path string) string {
	p := filepath.ToSlash(path)
	if filepath.IsAbs(path) || strings.HasPrefix(p, "/") {
		return (&url.URL{Scheme: "file", Path: p}).String()
	}
	return (&url.URL{Path: p}).String()
}

func invocation(r *findings.Report) *sarif.Invocation {
	inv := sarif.NewInvocation()
	ok := r.Scan.Complete
	inv.ExecutionSuccessful = &ok
	if !r.Scan.Started.IsZero() {
		t := r.Scan.Started.UTC()
		inv.StartTimeUTC = &t
	}
	if !r.Scan.Finished.IsZero() {
		t := r.Scan.Finished.UTC()
		inv.EndTimeUTC = &t
	}
	for _, p := range r.Scan.Problems {
		lvl := "warning"
		if p.Fatal {
			lvl = "error"
		}
		msg := p.Message
		if p.Offset >= 0 {
			msg = "offset " + strconv.FormatInt(p.Offset, 10) + ": " + msg
		}
		if p.Source != "" {
			msg = p.Source + ": " + msg
		}
		n := sarif.NewNotification()
		n.Level = lvl
		n.Message = sarif.NewTextMessage(sarifText(msg))
		inv.ToolExecutionNotifications = append(inv.ToolExecutionNotifications, n)
	}
	counters := sarif.Properties{}
	for _, c := range r.Scan.Counters {
		counters[c.Name] = c.Value
	}
	inv.Properties = sarif.Properties{"counters": counters}
	return inv
}

func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

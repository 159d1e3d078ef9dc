package report

import (
	"bufio"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/observe"
)

func init() {
	Scan.register("ocsf", func(o Options) Writer[*findings.Report] { return ocsfWriter{catalog: o.Catalog} })
}

// OCSFVersion is the version of the Open Cybersecurity Schema Framework the ocsf format
// follows (metadata.version of every event). ocsf_test.go holds each event to the
// attributes this version requires.
const OCSFVersion = "1.3.0"

// OCSF identifiers medscan emits (OCSF 1.3.0: events/findings/*.json and the
// dictionary's enums).
const (
	ocsfCategoryFindings   = 2
	ocsfClassVulnerability = 2002 // Vulnerability Finding
	ocsfClassCompliance    = 2003 // Compliance Finding

	ocsfActivityCreate = 1
	ocsfActivityUpdate = 2
	ocsfActivityClose  = 3

	ocsfStatusNew        = 1
	ocsfStatusSuppressed = 3
	ocsfStatusResolved   = 4

	ocsfCompliancePass = 1
	ocsfComplianceFail = 3

	ocsfAnalyticRule = 1 // analytic.type_id: Rule
)

// ocsfWriter renders a scan as OCSF events in JSON Lines, one event per finding, for a
// SIEM (Splunk, OpenSearch, Security Lake) to ingest as they come.
//
// Class. A finding whose rule recorded a CVE for it (findings.Finding.CVEs: a ROCA key,
// a Fermat-factorable one) is a Vulnerability Finding (2002) with a vulnerability per
// CVE; every other finding is a posture check failed, a Compliance Finding (2003) whose
// compliance object names the rule as the control and the standards its references cite
// (findings.Cite).
//
// Lifecycle. activity_id follows the history (exportItems): Create (1) for a finding new
// since the previous comparable scan (or every finding of a first scan), Update (2) for
// one that persists, Close (3) for one this scan proved fixed. A finding this scan could
// not assess gets no event: nothing is known of it that the last event did not say.
// status_id is New (1) for an open finding, Suppressed (3) for one a suppression set
// aside, Resolved (4) for a closed one.
//
// Where. The device is the finding's host, with what the inventory knows of it (MAC,
// name, kind as device type); resources name it again (with the port and the inventory's
// kind, maker and model) and the site (siteOf: the scan's site, else its label) when there is
// one. A finding about a file names the file as its resource.
//
// Times are milliseconds since the epoch, as OCSF's timestamp_t is: time is when the
// scan's judgement was made (scanTime), start_time and end_time the finding's first and
// last observation. The finding's evidence is carried under unmapped.evidence: it is
// already the document's, sanitised (Tidy), with credentials only masked and hashed.
type ocsfWriter struct{ catalog findings.Catalog }

// Write renders r as JSON Lines: one event per line, nothing else.
func (o ocsfWriter) Write(w io.Writer, r *findings.Report) error {
	if r == nil {
		return fmt.Errorf("report: ocsf: no report")
	}
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	assets := assetIndex(r)
	protocols := serviceProtocols(r)
	for it, err := range exportItems(r, o.catalog) {
		if err != nil {
			return err
		}
		if it.state == unassessed {
			continue
		}
		if err := enc.Encode(ocsfEventOf(r, it, assets, protocols)); err != nil {
			return fmt.Errorf("report: ocsf: %w", err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("report: ocsf: %w", err)
	}
	return nil
}

// The event and its objects, in OCSF 1.3.0's attribute names; omitempty only on
// attributes the schema does not require.
type (
	ocsfEvent struct {
		ActivityID      int                 `json:"activity_id"`
		ActivityName    string              `json:"activity_name"`
		CategoryUID     int                 `json:"category_uid"`
		CategoryName    string              `json:"category_name"`
		ClassUID        int                 `json:"class_uid"`
		ClassName       string              `json:"class_name"`
		TypeUID         int                 `json:"type_uid"`
		TypeName        string              `json:"type_name"`
		Time            int64               `json:"time"`
		SeverityID      int                 `json:"severity_id"`
		Severity        string              `json:"severity"`
		StatusID        int                 `json:"status_id"`
		Status          string              `json:"status"`
		Message         string              `json:"message"`
		StartTime       int64               `json:"start_time,omitempty"`
		EndTime         int64               `json:"end_time,omitempty"`
		Metadata        ocsfMetadata        `json:"metadata"`
		FindingInfo     ocsfFindingInfo     `json:"finding_info"`
		Compliance      *ocsfCompliance     `json:"compliance,omitempty"`
		Vulnerabilities []ocsfVulnerability `json:"vulnerabilities,omitempty"`
		Remediation     *ocsfRemediation    `json:"remediation,omitempty"`
		Device          *ocsfDevice         `json:"device,omitempty"`
		Resources       []ocsfResource      `json:"resources,omitempty"`
		Unmapped        map[string]any      `json:"unmapped,omitempty"`
	}
	ocsfMetadata struct {
		Version        string      `json:"version"`
		Product        ocsfProduct `json:"product"`
		UID            string      `json:"uid"`
		CorrelationUID string      `json:"correlation_uid"`
		LogName        string      `json:"log_name"`
	}
	ocsfProduct struct {
		Name       string `json:"name"`
		VendorName string `json:"vendor_name"`
		Version    string `json:"version,omitempty"`
	}
	ocsfFindingInfo struct {
		UID           string       `json:"uid"`
		Title         string       `json:"title"`
		Desc          string       `json:"desc"`
		Types         []string     `json:"types,omitempty"`
		DataSources   []string     `json:"data_sources,omitempty"`
		FirstSeenTime int64        `json:"first_seen_time,omitempty"`
		LastSeenTime  int64        `json:"last_seen_time,omitempty"`
		Analytic      ocsfAnalytic `json:"analytic"`
	}
	ocsfAnalytic struct {
		UID    string `json:"uid"`
		Name   string `json:"name"`
		TypeID int    `json:"type_id"`
		Type   string `json:"type"`
	}
	ocsfCompliance struct {
		Control      string   `json:"control"`
		Standards    []string `json:"standards"`
		Requirements []string `json:"requirements,omitempty"`
		StatusID     int      `json:"status_id"`
		Status       string   `json:"status"`
	}
	ocsfVulnerability struct {
		CVE           ocsfCVE          `json:"cve"`
		Title         string           `json:"title"`
		Desc          string           `json:"desc"`
		Severity      string           `json:"severity"`
		References    []string         `json:"references"`
		FirstSeenTime int64            `json:"first_seen_time,omitempty"`
		LastSeenTime  int64            `json:"last_seen_time,omitempty"`
		Remediation   *ocsfRemediation `json:"remediation,omitempty"`
	}
	ocsfCVE struct {
		UID        string   `json:"uid"`
		References []string `json:"references"`
	}
	ocsfRemediation struct {
		Desc       string   `json:"desc"`
		References []string `json:"references,omitempty"`
	}
	ocsfDevice struct {
		IP       string `json:"ip"`
		MAC      string `json:"mac,omitempty"`
		Hostname string `json:"hostname,omitempty"`
		Name     string `json:"name,omitempty"`
		TypeID   int    `json:"type_id"`
		Type     string `json:"type"`
	}
	ocsfResource struct {
		Type   string         `json:"type"`
		UID    string         `json:"uid"`
		Name   string         `json:"name"`
		Labels []string       `json:"labels,omitempty"`
		Data   map[string]any `json:"data,omitempty"`
	}
)

// ocsfSeverity maps medscan's severities to severity_id and its caption.
func ocsfSeverity(s findings.Severity) (int, string) {
	switch s {
	case findings.Critical:
		return 5, "Critical"
	case findings.High:
		return 4, "High"
	case findings.Medium:
		return 3, "Medium"
	case findings.Low:
		return 2, "Low"
	}
	return 1, "Informational"
}

// ocsfDeviceType maps the inventory's kinds to device.type_id (OCSF 1.3.0 device.json):
// servers for what serves clinical data, desktops for workstations; medical devices and
// network infrastructure have no type of their own and are Other (99) with the kind as
// the type, as the schema asks of Other.
func ocsfDeviceType(kind string) (int, string) {
	switch kind {
	case observe.KindClinicalServer, observe.KindMiddleware:
		return 1, "Server"
	case observe.KindWorkstation:
		return 2, "Desktop"
	case observe.KindMedicalDevice:
		return 99, "Medical Device"
	case observe.KindInfrastructure:
		return 99, "Network Infrastructure"
	}
	return 0, "Unknown"
}

// ms is t in milliseconds since the epoch; 0 for the zero time, so that omitempty
// leaves an unknown time out.
func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// cveURL is the CVE record's page at the CVE program.
func cveURL(id string) string { return "https://www.cve.org/CVERecord?id=" + id }

func ocsfEventOf(r *findings.Report, it exportItem, assets map[string]findings.Asset, protocols map[string]string) ocsfEvent {
	f := it.f
	sevID, sev := ocsfSeverity(f.Severity)
	e := ocsfEvent{
		CategoryUID: ocsfCategoryFindings, CategoryName: "Findings",
		Time:       ms(scanTime(r)),
		SeverityID: sevID, Severity: sev,
		Message:   f.Message,
		StartTime: ms(f.FirstSeen), EndTime: ms(f.LastSeen),
		Metadata: ocsfMetadata{
			Version: OCSFVersion,
			Product: ocsfProduct{Name: cmp.Or(r.Tool.Name, findings.ToolName), VendorName: findings.ToolName,
				Version: r.Tool.Version},
			// One event per finding per scan: a SIEM that receives an export twice can
			// drop the repeat by this.
			UID:            strconv.FormatInt(r.Scan.ID, 10) + ":" + f.Identity(),
			CorrelationUID: f.Identity(),
			LogName:        "medscan-findings",
		},
		FindingInfo: ocsfFindingInfo{
			UID: f.Identity(), Title: it.title(), Desc: f.Message,
			FirstSeenTime: ms(f.FirstSeen), LastSeenTime: ms(f.LastSeen),
			Analytic: ocsfAnalytic{UID: f.Rule, Name: f.Rule, TypeID: ocsfAnalyticRule, Type: "Rule"},
		},
	}
	if it.rule.Covers.Domain != "" {
		e.FindingInfo.Types = []string{string(it.rule.Covers.Domain)}
	}
	if f.Source != "" {
		e.FindingInfo.DataSources = []string{f.Source}
	}
	switch it.state {
	case opened:
		e.ActivityID, e.ActivityName = ocsfActivityCreate, "Create"
	case closed:
		e.ActivityID, e.ActivityName = ocsfActivityClose, "Close"
	default:
		e.ActivityID, e.ActivityName = ocsfActivityUpdate, "Update"
	}
	switch {
	case it.state == closed:
		e.StatusID, e.Status = ocsfStatusResolved, "Resolved"
	case it.suppressed:
		e.StatusID, e.Status = ocsfStatusSuppressed, "Suppressed"
	default:
		e.StatusID, e.Status = ocsfStatusNew, "New"
	}
	remediation := cmp.Or(f.Remediation, it.rule.Remediation)
	refs := it.rule.References
	if len(refs) == 0 {
		refs = f.References
	}
	if remediation != "" {
		e.Remediation = &ocsfRemediation{Desc: remediation, References: refs}
	}
	if cves := f.CVEs(); len(cves) > 0 {
		e.ClassUID, e.ClassName = ocsfClassVulnerability, "Vulnerability Finding"
		for _, id := range cves {
			v := ocsfVulnerability{CVE: ocsfCVE{UID: id, References: []string{cveURL(id)}},
				Title: it.title(), Desc: f.Message, Severity: sev, References: []string{cveURL(id)},
				FirstSeenTime: ms(f.FirstSeen), LastSeenTime: ms(f.LastSeen)}
			if remediation != "" {
				v.Remediation = &ocsfRemediation{Desc: remediation}
			}
			e.Vulnerabilities = append(e.Vulnerabilities, v)
		}
	} else {
		e.ClassUID, e.ClassName = ocsfClassCompliance, "Compliance Finding"
		c := findings.Cite(refs)
		standards := c.Standards
		if len(standards) == 0 {
			// No reference names a standard medscan knows: the references themselves, or
			// the rule, say what the check holds the target to.
			standards = refs
		}
		if len(standards) == 0 {
			standards = []string{"medscan rule " + f.Rule}
		}
		e.Compliance = &ocsfCompliance{Control: f.Rule, Standards: standards, Requirements: c.Requirements,
			StatusID: ocsfComplianceFail, Status: "Fail"}
		if it.state == closed {
			e.Compliance.StatusID, e.Compliance.Status = ocsfCompliancePass, "Pass"
		}
	}
	e.TypeUID = e.ClassUID*100 + e.ActivityID
	e.TypeName = e.ClassName + ": " + e.ActivityName
	e.Device, e.Resources = ocsfPlace(r, f, assets, protocols)
	if len(f.Evidence) > 0 {
		e.Unmapped = map[string]any{"evidence": f.Evidence}
	}
	return e
}

// ocsfPlace is the finding's device and resources: its host (with the inventory's
// knowledge of it) or its file, and the site.
func ocsfPlace(r *findings.Report, f findings.Finding, assets map[string]findings.Asset,
	protocols map[string]string) (*ocsfDevice, []ocsfResource) {
	var dev *ocsfDevice
	var res []ocsfResource
	switch {
	case f.Host != "":
		a := assets[f.Host]
		typeID, typ := ocsfDeviceType(a.Kind)
		name := assetName(a)
		dev = &ocsfDevice{IP: f.Host, MAC: a.MAC, Hostname: name, Name: name, TypeID: typeID, Type: typ}
		data := map[string]any{"ip": f.Host}
		if f.Port != 0 {
			data["port"] = f.Port
			if p := protocols[findings.Target(f.Host, f.Port)]; p != "" {
				data["protocol"] = p
			}
		}
		for k, v := range map[string]string{"mac": a.MAC, "kind": a.Kind, "vendor": a.Vendor,
			"manufacturer": a.Manufacturer, "model": a.Model} {
			if v != "" {
				data[k] = v
			}
		}
		device := ocsfResource{Type: "device", UID: f.Host, Name: cmp.Or(name, f.Host), Data: data}
		if a.Kind != "" {
			device.Labels = []string{a.Kind}
		}
		res = append(res, device)
	case f.File != "":
		res = append(res, ocsfResource{Type: "file", UID: f.File, Name: f.File})
	}
	if site := siteOf(r); site != "" {
		res = append(res, ocsfResource{Type: "site", UID: site, Name: site})
	}
	return dev, res
}

package cleartext

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/observe"
	"github.com/medscan/medscan/rules"
)

// What an HTTP request was, for the API rules (cleartext-fhir, cleartext-api and
// api-unauthenticated), decided from the media types and the path alone: passively,
// medscan sees the headers, never the body.
const (
	apiNone = ""     // not an API call as far as the headers show (a page, an image, a download)
	apiFHIR = "fhir" // a FHIR REST interaction
	apiAPI  = "api"  // a REST, JSON, XML or SOAP call that is not FHIR
)

// mediaType returns the lowercased media type of a Content-Type value, without
// parameters: "application/fhir+json; fhirVersion=4.0" gives "application/fhir+json".
func mediaType(ct string) string {
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	return strings.ToLower(strings.TrimSpace(ct))
}

// fhirMediaTypes are FHIR's own media types (R4 §3.1.0.1.2), with the DSTU2 ones that
// servers still send ("application/json+fhir").
var fhirMediaTypes = []string{"application/fhir+json", "application/fhir+xml", "application/json+fhir", "application/xml+fhir"}

// isFHIRMedia reports whether a Content-Type is a FHIR media type.
func isFHIRMedia(ct string) bool { return slices.Contains(fhirMediaTypes, mediaType(ct)) }

// isAPIMedia reports whether a Content-Type is one an API exchanges: JSON, XML or SOAP,
// including structured-syntax suffixes ("application/problem+json",
// "application/soap+xml"). XHTML, SVG and feeds are documents, not API payloads.
func isAPIMedia(ct string) bool {
	mt := mediaType(ct)
	switch mt {
	case "application/json", "text/json", "application/xml", "text/xml", "application/x-ndjson":
		return true
	case "application/xhtml+xml", "application/atom+xml", "application/rss+xml":
		return false
	}
	return strings.HasPrefix(mt, "application/") && (strings.HasSuffix(mt, "+json") || strings.HasSuffix(mt, "+xml"))
}

// isDocumentMedia reports whether a response is something a browser renders or loads
// (HTML, CSS, script, image, font): a FHIR server answers interactions with resources,
// so such a response vetoes a FHIR guess made from a path at the server's root.
func isDocumentMedia(ct string) bool {
	mt := mediaType(ct)
	switch {
	case mt == "text/html", mt == "text/css", mt == "application/xhtml+xml",
		strings.HasSuffix(mt, "javascript"), strings.HasPrefix(mt, "image/"), strings.HasPrefix(mt, "font/"):
		return true
	}
	return false
}

// fhirResourceTypes are the resource types of FHIR R4 (4.0.1), case-sensitive as FHIR's
// URLs are. Sorted, for binary search.
var fhirResourceTypes = []string{
	"Account", "ActivityDefinition", "AdverseEvent", "AllergyIntolerance", "Appointment", "AppointmentResponse",
	"AuditEvent", "Basic", "Binary", "BiologicallyDerivedProduct", "BodyStructure", "Bundle", "CapabilityStatement",
	"CarePlan", "CareTeam", "CatalogEntry", "ChargeItem", "ChargeItemDefinition", "Claim", "ClaimResponse",
	"ClinicalImpression", "CodeSystem", "Communication", "CommunicationRequest", "CompartmentDefinition",
	"Composition", "ConceptMap", "Condition", "Consent", "Contract", "Coverage", "CoverageEligibilityRequest",
	"CoverageEligibilityResponse", "DetectedIssue", "Device", "DeviceDefinition", "DeviceMetric", "DeviceRequest",
	"DeviceUseStatement", "DiagnosticReport", "DocumentManifest", "DocumentReference", "EffectEvidenceSynthesis",
	"Encounter", "Endpoint", "EnrollmentRequest", "EnrollmentResponse", "EpisodeOfCare", "EventDefinition",
	"Evidence", "EvidenceVariable", "ExampleScenario", "ExplanationOfBenefit", "FamilyMemberHistory", "Flag", "Goal",
	"GraphDefinition", "Group", "GuidanceResponse", "HealthcareService", "ImagingStudy", "Immunization",
	"ImmunizationEvaluation", "ImmunizationRecommendation", "ImplementationGuide", "InsurancePlan", "Invoice",
	"Library", "Linkage", "List", "Location", "Measure", "MeasureReport", "Media", "Medication",
	"MedicationAdministration", "MedicationDispense", "MedicationKnowledge", "MedicationRequest",
	"MedicationStatement", "MedicinalProduct", "MedicinalProductAuthorization", "MedicinalProductContraindication",
	"MedicinalProductIndication", "MedicinalProductIngredient", "MedicinalProductInteraction",
	"MedicinalProductManufactured", "MedicinalProductPackaged", "MedicinalProductPharmaceutical",
	"MedicinalProductUndesirableEffect", "MessageDefinition", "MessageHeader", "MolecularSequence", "NamingSystem",
	"NutritionOrder", "Observation", "ObservationDefinition", "OperationDefinition", "OperationOutcome",
	"Organization", "OrganizationAffiliation", "Parameters", "Patient", "PaymentNotice", "PaymentReconciliation",
	"Person", "PlanDefinition", "Practitioner", "PractitionerRole", "Procedure", "Provenance", "Questionnaire",
	"QuestionnaireResponse", "RelatedPerson", "RequestGroup", "ResearchDefinition", "ResearchElementDefinition",
	"ResearchStudy", "ResearchSubject", "RiskAssessment", "RiskEvidenceSynthesis", "Schedule", "SearchParameter",
	"ServiceRequest", "Slot", "Specimen", "SpecimenDefinition", "StructureDefinition", "StructureMap",
	"Subscription", "Substance", "SubstanceNucleicAcid", "SubstancePolymer", "SubstanceProtein",
	"SubstanceReferenceInformation", "SubstanceSourceMaterial", "SubstanceSpecification", "SupplyDelivery",
	"SupplyRequest", "Task", "TerminologyCapabilities", "TestReport", "TestScript", "ValueSet", "VerificationResult",
	"VisionPrescription",
}

// genericResourceTypes are resource types that are also everyday words in web
// applications' paths ("/Account/Login" in ASP.NET, "/Media/logo.png"): they mark FHIR
// only under a FHIR base ("/fhir/Account"), never at the server's root.
var genericResourceTypes = []string{
	"Account", "Basic", "Binary", "Bundle", "Contract", "Endpoint", "Evidence", "Flag", "Goal", "Group", "Invoice",
	"Library", "Linkage", "List", "Location", "Measure", "Media", "Parameters", "Person", "Schedule", "Slot",
	"Subscription", "Task",
}

// fhirVersionSegment matches the version labels FHIR servers put in their base URL:
// "r4", "R4B", "baseR4", "dstu3", "STU3", "baseDstu2".
var fhirVersionSegment = regexp.MustCompile(`(?i)^(base)?(r[2-6]b?|dstu[1-3]|stu3)$`)

// fhirID matches a FHIR logical id (R4 §2.24.0.1 id datatype), or a search, history or
// operation segment ("_search", "_history", "$everything").
var fhirID = regexp.MustCompile(`^([A-Za-z0-9\-.]{1,64}|[_$][A-Za-z0-9\-_]{1,64})$`)

// fhirPath reads a request path as a FHIR REST interaction. It returns the resource type
// ("Patient", or "metadata" for the capabilities interaction), whether the path had a
// FHIR base (a segment naming FHIR or a FHIR version: "/fhir/", "/baseR4/", "/api/fhir/r4/"),
// and whether it is FHIR at all. The type is the first segment, or the segment after a
// FHIR base of at most three segments; what follows it must be at most four segments of
// the shapes FHIR uses (id, "_history", version id, "$operation"). "metadata" counts only
// as the last segment, where the capability statement lives, so that a cloud metadata
// service ("/metadata/instance") is not FHIR.
func fhirPath(path string) (resource string, based, ok bool) {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	for i := 0; i < len(segs) && i <= 3; i++ {
		s, rest := segs[i], segs[i+1:]
		if s == "metadata" && len(rest) == 0 && (i == 0 || based) {
			return s, based, true
		}
		if isResourceType(s) {
			if (i > 0 && !based) || len(rest) > 4 || (!based && slices.Contains(genericResourceTypes, s)) {
				return "", false, false
			}
			for _, r := range rest {
				if !fhirID.MatchString(r) {
					return "", false, false
				}
			}
			return s, based, true
		}
		switch {
		case strings.Contains(strings.ToLower(s), "fhir") || fhirVersionSegment.MatchString(s):
			based = true
		case based:
			return "", false, false // a FHIR base is followed by the type, or by more of the base
		case i > 0:
			return "", false, false
		}
		// A first segment that is neither the type nor FHIR's base may be a context path
		// in front of the base ("/api/fhir/Patient").
	}
	return "", false, false
}

// isResourceType reports whether s is an R4 resource type.
func isResourceType(s string) bool {
	_, ok := slices.BinarySearch(fhirResourceTypes, s)
	return ok
}

// classify says what an HTTP request was, and for FHIR the resource type ("" when only
// the media type said FHIR). A FHIR media type in either direction is FHIR; otherwise a
// FHIR path is, unless it sits at the server's root and the response was a page, a
// script or an image; otherwise a JSON, XML or SOAP media type in either direction is an
// API call.
func classify(r *observe.HTTPRequest) (kind, resource string) {
	res, based, pathOK := fhirPath(r.Path)
	if isFHIRMedia(r.ContentType) || isFHIRMedia(r.RespContentType) {
		return apiFHIR, res
	}
	if pathOK && (based || !isDocumentMedia(r.RespContentType)) {
		return apiFHIR, res
	}
	if isAPIMedia(r.ContentType) || isAPIMedia(r.RespContentType) {
		return apiAPI, ""
	}
	return apiNone, ""
}

// fhirEndpoints returns the server endpoints that carried any FHIR interaction, so that
// cleartext-api leaves them to cleartext-fhir.
func fhirEndpoints(set *observe.Set) map[observe.Endpoint]bool {
	out := map[observe.Endpoint]bool{}
	for _, r := range set.HTTP {
		if k, _ := classify(r); k == apiFHIR {
			out[r.Flow.Server] = true
		}
	}
	return out
}

// versionSegment matches an API version label kept in path templates ("v1", "v2.1").
var versionSegment = regexp.MustCompile(`^v[0-9]+(\.[0-9]+)*$`)

// pathTemplate renders a path for evidence with its identifiers replaced by "{id}":
// a FHIR resource's logical id, and any segment that holds a digit (other than a version
// label such as "v1"), an '@', a '%' escape, or more than 40 characters. Identifiers in
// clinical APIs are often medical record numbers or accession numbers, which are patient
// data; the template keeps the shape that says what the API is, and one template stands
// for every patient's path.
func pathTemplate(path string) string {
	if path == "" {
		return "/"
	}
	segs := strings.Split(path, "/")
	afterType := false
	for i, s := range segs {
		switch {
		case s == "":
		case afterType && !strings.HasPrefix(s, "_") && !strings.HasPrefix(s, "$"):
			segs[i] = "{id}"
		case len(s) > 40 || strings.ContainsAny(s, "0123456789@%") && !versionSegment.MatchString(s) &&
			!fhirVersionSegment.MatchString(s):
			segs[i] = "{id}"
		}
		afterType = isResourceType(s) || s == "_history"
	}
	return strings.Join(segs, "/")
}

// apiServer gathers the HTTP requests of one server endpoint that a rule judged.
type apiServer struct {
	ep                         observe.Endpoint
	first, last                time.Time
	clients, methods, paths    []string
	resources, media, statuses []string
	requests                   int
}

// apiServers groups the requests that match by server endpoint, in address order.
func apiServers(set *observe.Set, match func(r *observe.HTTPRequest) bool) []*apiServer {
	idx := map[observe.Endpoint]*apiServer{}
	var out []*apiServer
	for _, r := range set.HTTP {
		if !match(r) {
			continue
		}
		a := idx[r.Flow.Server]
		if a == nil {
			a = &apiServer{ep: r.Flow.Server, first: r.FirstSeen, last: r.LastSeen}
			idx[r.Flow.Server] = a
			out = append(out, a)
		}
		a.add(r)
	}
	slices.SortFunc(out, func(a, b *apiServer) int { return a.ep.Compare(b.ep) })
	return out
}

// add counts one request shape into the server's evidence.
func (a *apiServer) add(r *observe.HTTPRequest) {
	if !r.FirstSeen.IsZero() && (a.first.IsZero() || r.FirstSeen.Before(a.first)) {
		a.first = r.FirstSeen
	}
	if last := cmp.Or(r.LastSeen, r.FirstSeen); last.After(a.last) {
		a.last = last
	}
	a.clients = rules.AddSorted(a.clients, r.Flow.Client.Addr().Unmap().String())
	if r.Method != "" {
		a.methods = rules.AddSorted(a.methods, r.Method)
	}
	if r.Method != "" || r.Path != "" {
		a.paths = rules.AddSorted(a.paths, pathTemplate(r.Path))
	}
	if _, res := classify(r); res != "" {
		a.resources = rules.AddSorted(a.resources, res)
	}
	for _, ct := range []string{r.ContentType, r.RespContentType} {
		if mt := mediaType(ct); mt != "" {
			a.media = rules.AddSorted(a.media, mt)
		}
	}
	if r.Status != 0 {
		a.statuses = rules.AddSorted(a.statuses, strconv.Itoa(r.Status))
	}
	a.requests += max(r.Count, 1)
}

// evidence is what every API finding carries about the requests behind it.
func (a *apiServer) evidence() map[string]any {
	ev := map[string]any{
		"protocol":    "http",
		"clients":     a.clients,
		"methods":     a.methods,
		"paths":       a.paths,
		"media_types": a.media,
		"statuses":    a.statuses,
		"requests":    a.requests,
		"observed_at": rules.TimeString(a.first),
		"first_seen":  rules.TimeString(a.first),
		"last_seen":   rules.TimeString(a.last),
	}
	if len(a.resources) > 0 {
		ev["resource_types"] = a.resources
	}
	return ev
}

// finding starts a finding about the server with the given message.
func (a *apiServer) finding(msg string) findings.Finding {
	host, port := rules.HostPort(a.ep)
	return findings.Finding{
		Host:      host,
		Port:      port,
		Message:   msg,
		Evidence:  a.evidence(),
		Time:      a.first,
		FirstSeen: a.first,
		LastSeen:  a.last,
	}
}

// joinFew joins at most n items of a list for a message, saying how many more there are
// (the evidence has them all).
func joinFew(list []string, n int) string {
	if len(list) <= n {
		return joinOr(list, "?")
	}
	return strings.Join(list[:n], ", ") + fmt.Sprintf(" and %d more", len(list)-n)
}

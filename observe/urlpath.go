package observe

import (
	"slices"
	"strings"
	"unicode"
)

// This file decides which parts of a URL path may be kept. Identifiers in clinical APIs
// are medical record numbers, accession numbers, patients' names: patient data. A path is
// therefore kept only as a template in which every segment that is not a known word of an
// API is replaced by "{id}": "/fhir/Patient/WRD4471902" is "/fhir/Patient/{id}",
// "/ehr/api/v2/patient/name/HOLLOWAY/record" is "/ehr/api/v2/patient/name/{id}/record".
// The template still says what the interface is, and one template stands for every
// patient's path. Dissectors call PathTemplate before a path leaves them.

// PathTemplateID stands for a segment that may identify someone or something.
const PathTemplateID = "{id}"

// maxTemplateSegments bounds the segments a template keeps; the rest are "…".
const maxTemplateSegments = 16

// maxWordSegment is the longest segment a known word may be.
const maxWordSegment = 40

// PathTemplate returns the template of a URL path (without its query string): each
// segment is kept only when it is a known word (see knownSegment); any other segment, in
// particular one holding digits (but for version labels and acronyms such as "v2", "R4",
// "HL7"), '^', '%', '@' or any character outside letters, digits and "-._~$", or longer
// than 40 characters, is "{id}". A segment that follows a FHIR resource type,
// "_history", or a word that introduces a person's identifier ("name", "mrn",
// "identifier"...) is "{id}" whatever it is, FHIR's own "_" and "$" segments excepted.
// A file name keeps its extension when the extension is a known one ("{id}.bin"), so
// that a firmware download still says what it fetched. The empty path is "/".
func PathTemplate(path string) string {
	if path == "" {
		return "/"
	}
	segs := strings.Split(path, "/")
	if len(segs) > maxTemplateSegments+1 {
		segs = append(segs[:maxTemplateSegments+1], "…")
	}
	forceID := false
	for i, s := range segs {
		if s == "" || s == "…" && i == len(segs)-1 {
			continue
		}
		next := IsFHIRResourceType(s) || s == "_history" || slices.Contains(identifierWords, strings.ToLower(s))
		if forceID && !fhirSpecial(s) || !knownSegment(s) {
			segs[i] = PathTemplateID + knownExtension(s)
			next = false
		}
		forceID = next
	}
	return strings.Join(segs, "/")
}

// identifierWords introduce a person's or a record's identifier: the segment after them
// is one, even when it happens to be a word.
var identifierWords = []string{"name", "names", "mrn", "id", "ids", "identifier", "identifiers", "ssn", "dob",
	"birthdate", "surname", "lastname", "firstname", "family", "given", "accession", "username", "email"}

// knownSegment reports whether a path segment is a word an API is made of: a FHIR
// resource type, a version label ("v2", "R4", "baseDstu3"), a FHIR operation or search
// segment ("$everything", "_search"), an acronym from a short list ("FHIR", "HL7"), or
// words from the vocabulary joined by '-', '_' or '.', or in camelCase ("deviceStatus",
// "well-known", "index.html", "Login"). The vocabulary holds no common surname or given
// name, so that a name is never kept however it is capitalised.
func knownSegment(s string) bool {
	if len(s) > maxWordSegment || !wordCharacters(s) {
		return false
	}
	switch {
	case IsFHIRResourceType(s), IsVersionLabel(s), slices.Contains(acronyms, s), fhirSpecial(s):
		return true
	case strings.HasPrefix(s, "_") || strings.HasPrefix(s, "$"):
		return false
	}
	if ext := knownExtension(s); ext != "" {
		s = s[:len(s)-len(ext)]
	}
	return knownWords(s)
}

// wordCharacters reports whether s holds only what a kept word may: ASCII letters and
// digits and "-._~$". Nothing a free-text or escaped identifier needs.
func wordCharacters(s string) bool {
	for _, r := range s {
		if !(r < 0x80 && (unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("-._~$", r))) {
			return false
		}
	}
	return true
}

// knownWords reports whether s is made of known words and nothing else (splitWords).
func knownWords(s string) bool {
	words := splitWords(s)
	return len(words) > 0 && !slices.ContainsFunc(words, func(w string) bool { return !knownWord(w) })
}

// fhirSpecial reports whether a segment is one of FHIR's operation or search segments
// ("$everything", "_history", "$validate-code"): '$' or '_' then known words. Only known
// words: "_" or "$" in front of a name does not make it a word.
func fhirSpecial(s string) bool {
	return len(s) >= 2 && (s[0] == '_' || s[0] == '$') && isLower(s[1]) && knownWords(s[1:])
}

// knownWord reports whether one word of a segment is known: in the vocabulary, lowercase
// or with only its first letter capitalised ("Login" in "/Portal/Login"), an acronym,
// or a version label. Words holding digits are not, except version labels; a word in
// capitals ("HOLLOWAY") is known only as an acronym.
func knownWord(w string) bool {
	if IsVersionLabel(w) || slices.Contains(acronyms, w) {
		return true
	}
	if len(w) > 1 && isUpper(w[0]) && isLower(w[1]) {
		w = strings.ToLower(w[:1]) + w[1:]
	}
	if slices.Contains(identifierWords, w) {
		return true
	}
	_, ok := slices.BinarySearch(vocabulary, w)
	return ok
}

// splitWords cuts a segment into words at '-', '_', '~', then '.' (but a version label
// such as "v2.3" stays whole) and camelCase humps, keeping each word's case;
// "deviceStatus" gives "device", "status" (a hump is lowercased so that the vocabulary,
// which is lowercase, names it). A capitalised first letter is not a hump: "Holloway"
// stays "Holloway" and is not in the vocabulary.
func splitWords(s string) []string {
	var out []string
	for _, field := range strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune("-_~", r) }) {
		if IsVersionLabel(field) {
			out = append(out, field)
			continue
		}
		for _, part := range strings.Split(field, ".") {
			if part == "" {
				continue
			}
			start := 0
			for i := 1; i < len(part); i++ {
				if isUpper(part[i]) && !isUpper(part[i-1]) {
					out = append(out, hump(part[start:i], start > 0))
					start = i
				}
			}
			out = append(out, hump(part[start:], start > 0))
		}
	}
	return out
}

func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }

func isLower(c byte) bool { return c >= 'a' && c <= 'z' }

// hump lowercases a camelCase word that follows another ("Status" in "deviceStatus").
func hump(w string, inner bool) string {
	if inner && len(w) > 1 && isUpper(w[0]) && !isUpper(w[1]) {
		return strings.ToLower(w[:1]) + w[1:]
	}
	return w
}

// knownExtension returns a file name's extension when it is one worth keeping in a
// template ("{id}.bin"), else "".
func knownExtension(s string) string {
	i := strings.LastIndexByte(s, '.')
	if i <= 0 || i == len(s)-1 {
		return ""
	}
	ext := strings.ToLower(s[i+1:])
	if slices.Contains(extensions, ext) {
		return "." + ext
	}
	return ""
}

// IsVersionLabel reports whether a path segment is an API or FHIR version label: "v1",
// "v2.1" ("v" and one to three dot-separated numbers of one to three digits), and, in
// any case, FHIR's "r4", "R4B", "baseR4", "dstu3", "STU3", "baseDstu2". A bare dotted
// number ("4.2.1") is not one: a date of birth ("12.03.80") looks just like it. It is
// asked of every word of every request's path, so it reads bytes, never a regexp.
func IsVersionLabel(s string) bool {
	if v, ok := strings.CutPrefix(s, "v"); ok {
		groups := strings.Split(v, ".")
		return len(groups) <= 3 && !slices.ContainsFunc(groups, func(g string) bool { return !shortNumber(g) })
	}
	l := strings.ToLower(s)
	l = strings.TrimPrefix(l, "base")
	switch {
	case l == "dstu1" || l == "dstu2" || l == "dstu3" || l == "stu3":
		return true
	case len(l) < 2 || len(l) > 3 || l[0] != 'r' || l[1] < '2' || l[1] > '6':
		return false
	}
	return len(l) == 2 || l[2] == 'b'
}

// shortNumber reports whether s is one to three decimal digits.
func shortNumber(s string) bool {
	return len(s) >= 1 && len(s) <= 3 && strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' }) < 0
}

// IsFHIRResourceType reports whether s is a FHIR R4 resource type (case-sensitive, as
// FHIR's URLs are).
func IsFHIRResourceType(s string) bool {
	_, ok := slices.BinarySearch(fhirResourceTypes, s)
	return ok
}

// acronyms are the upper-case words kept in templates.
var acronyms = []string{"API", "CDA", "DICOM", "EHR", "EMR", "FHIR", "HL7", "HTTP", "JSON", "MLLP", "PACS", "QIDO",
	"REST", "RIS", "SOAP", "STOW", "UI", "WADO", "XML"}

// extensions are the file extensions a template keeps after "{id}": web resources, API
// documents, and software images (as capture/internal/image recognises them).
var extensions = []string{"apk", "asmx", "aspx", "bin", "cgi", "css", "deb", "dll", "elf", "exe", "fw", "gif", "gz",
	"hex", "htm", "html", "ico", "img", "jpeg", "jpg", "js", "json", "jsp", "msi", "php", "pkg", "png", "rpm", "svc",
	"svg", "swu", "tar", "tgz", "txt", "uimage", "uimg", "upd", "wsdl", "xml", "zip"}

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

// vocabulary is the words API paths are made of, lowercase and sorted: the web's and
// REST's own, device management, PKI enrolment, and clinical interfaces. It holds no
// word that is also a common surname or given name (testdata/names.txt holds the ones
// tested, from many countries); a word missing from it costs only a less telling
// template.
var vocabulary = sortedWords(`
a about access account accounts acme action actions activate activation active add admin administration
admission admissions agent agents alarm alarms alert alerts alive all allergies allergy analyzer analyzers and api
apis app application applications apps archive archives asset assets attachment attachments audit audits auth
authenticate authentication authorization authorize backup backups base batch bed beds bin binary blob blobs
boot bootloader  build bulk bundle by ca cacerts callback callbacks capabilities capability care
catalog categories category cda ccd cds cert certificate certificates certs cgi challenge channel channels chart
charts check checks class classes clinic clinical clinician clinicians clinics clock closed cmd code codes
codesystem command commands common compartment concept concepts condition conditions config configuration
configurations connect console content contents control controls count create crl css current dashboard data
dataset datasets date debug default definition definitions delete department departments detail details device
devices diag diagnosis diagnostic diagnostics dicom dicomweb discharge discovery dist doc docs document documents
dosage dose doses download downloads drug drugs echo edit ehr emr encounter encounters enroll enrollment entries
entry equipment est event events everything expand export exports external facilities facility feed feeds fhir file
files filter find firmware first font fonts for format frames from fw gateway gateways get global graphql group
groups health healthcheck healthz heartbeat help his history hl7 home  hooks hospital hospitals host hosts hub
hubs icon icons image images img immunization immunizations import imports in inactive inbox index info infusion
infusions instance instances instrument instruments interface interfaces internal item items job jobs js json
jsonrpc jwks kernel key keys  kinds lab laboratory labs last latest launch lib libs license licenses limit
 list lists live livez lld local location locations log logging login logon logout logs lookup main manage
management map mapping mappings measurement measurements med media medication medications meds message messages
meta metadata metrics mllp modalities modality model models monitor monitoring monitors msg mdm network networks
new next node nodes note notes notification notifications notify ntp object objects observation observations ocsp
of offset oidc on open openapi openid operation operations option options or order orders org organization
organizations orgs  outbox package packages  pages param parameter parameters params patch patches patient
patients pending permission permissions pki physician physicians ping pki portal port ports practitioner
practitioners preferences prescription prescriptions prev previous private problem problems procedure procedures
profile profiles provider providers provision provisioning public pull pump pumps push qido query queue queues
  readings readyz reboot receive recent record records register registration release releases remote
remove rendered report reports request requests requisition reset resource resources rest restart restore result
results ris role roles room rooms rootfs rpc rs saml save scep schedule schedules schema schemas script scripts
search send sensor sensors series server servers service services servlet servlets session sessions set setting
settings shared shutdown sign signin signout signs signup simpleenroll simplereenroll site sites slot slots smart
snmp soap software sort spec specimen specimens specs sso staff static stats statistics status storage store
stores stow stream streams studies study style styles subscribe subscription subscriptions summary support svc
sw swagger sync system systems task tasks team teams telemetry template templates terminology test tests the
thumbnail time to token tokens topic topics total transaction transfer transfers translate trend trends type types
ui unit units update updates upgrade upload uploads uri user users validate value values valueset vendor
ventilator ventilators verification verify version versions view views visit visits vital vitals  wards
waveform waveforms web webhook webhooks well known wado work worklist worklists ws wsdl www xml xmlrpc
apply closure collect evaluate lastn match populate process requirements submit subsumes
contained elements include performer revinclude subject tag text updated
`)

func sortedWords(text string) []string {
	out := strings.Fields(text)
	slices.Sort(out)
	return slices.Compact(out)
}

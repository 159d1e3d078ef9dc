package report

import "github.com/medscan/medscan/findings"

// The page's sections are built in one fold of the findings as they stream (htmlFindings);
// foldHTMLFindings runs it over a list, and the functions below read one section of it,
// for the sections' tests.

// htmlCertPostures indexes the weak and too-long findings by certificate, as the page's
// fold of the findings does (htmlFindings.add).
func htmlCertPostures(fs []findings.Finding) map[string]certPosture {
	return foldHTMLFindings(fs, nil, nil, true).posture
}

// htmlSharedKeys lists each key the key-shared rule found on several hosts or subjects,
// once per key, with the certificates and the places that present it
// (htmlFindings.addSharedKey).
func htmlSharedKeys(fs []findings.Finding) []sharedKey {
	return foldHTMLFindings(fs, nil, nil, true).keys
}

// htmlSharedCreds lists the secrets credential-shared found: one row per kind and set
// of shared secrets (htmlFindings.addSharedCred).
func htmlSharedCreds(fs []findings.Finding) []sharedCred {
	return foldHTMLFindings(fs, nil, nil, true).creds
}

// htmlRisks ranks the risks the findings lead to (htmlFindings.riskViews).
func htmlRisks(fs []findings.Finding, catalog findings.Catalog, dev deviceIndex) []riskView {
	return foldHTMLFindings(fs, catalog, dev, true).riskViews()
}

// htmlPlan is the remediation plan of the findings (htmlFindings.plan).
func htmlPlan(fs []findings.Finding, catalog findings.Catalog, dev deviceIndex) []ownerPlan {
	return foldHTMLFindings(fs, catalog, dev, true).plan()
}

// foldHTMLFindings folds a list of findings, for the sections' tests.
func foldHTMLFindings(fs []findings.Finding, catalog findings.Catalog, dev deviceIndex, summarize bool) *htmlFindings {
	h := newHTMLFindings(catalog, dev, summarize)
	for i := range fs {
		h.add(&fs[i])
	}
	return h
}

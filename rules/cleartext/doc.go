// Package cleartext holds the rules about sensitive traffic seen without encryption:
// HL7 v2 messages over MLLP, DICOM associations, FHIR and other API calls over plain
// HTTP, credentials, and firmware or software images downloaded over plain HTTP
// (cleartext-update: one finding per server and path, with the image's size and SHA-256,
// never the body; for a gzip-encoded body the decoded image's, the digest a vendor
// publishes, when the update keeper decoded it), with two rules on what that traffic shows about authentication
// (api-unauthenticated, credential-shared).
//
// Everything these rules see was, by construction, readable on the wire: the passive
// engine only dissects what is not encrypted. Findings are keyed by the server's address
// and port. Patient data is never in the evidence (HL7 patient segments are counted by the
// dissector, never copied; HTTP paths appear as templates, with FHIR ids and anything that
// looks like an identifier replaced by "{id}"), and neither are secrets: a credential
// finding carries the credential's kind, where it was sent, the user name, a masked
// preview and its keyed hash. The hash's key differs between key files, so no
// fingerprint depends on it: both cleartext-credentials and credential-shared raise one
// finding per server and kind of credential, the kind as Subject. credential-shared also
// counts the clients of other sites of the store that sent the same secret (observe.Fleet:
// only hashes made under this scan's key file, so every sensor of a health system must
// share one), naming them with their site and listing the sites in the evidence.
//
// What an HTTP request was is decided once, by the HTTP dissector, from its headers, its
// path and the few body facts it reads (observe.HTTPRequest.AsEmitted); the rules read
// HTTPRequest.API, Resource, Login and BodySecretKeys:
//   - FHIR (cleartext-fhir): a FHIR media type in either direction (application/fhir+json,
//     application/fhir+xml, or DSTU2's application/json+fhir and application/xml+fhir), or
//     a path whose first segment, or first segment after a FHIR base ("/fhir/", "/baseR4/",
//     "/r4/", "/api/fhir/r4/"), is an R4 resource type, case-sensitive as FHIR is, followed
//     by at most four id, _history, _search or $operation segments; "metadata" only as the
//     last segment. Resource types that are everyday words ("Account", "List", "Media",
//     "Task", ...) count only under a FHIR base, and a path at the server's root does not
//     count when the answer was HTML, CSS, script, an image or a font.
//   - An API (cleartext-api): otherwise, a JSON, XML or SOAP media type in either direction
//     (application/json, text/json, application/xml, text/xml, application/x-ndjson, and
//     application/*+json or +xml such as application/soap+xml), except XHTML and feeds.
//     The two are judged apart: an endpoint that serves FHIR and another API (a pump's
//     JSON API beside a FHIR base on one port) has a cleartext-fhir naming the FHIR
//     clients and a cleartext-api naming the other API's clients. Both stay keyed by host
//     and port (no Subject), so their fingerprints did not change with that split.
//   - Neither: a UPnP or DIAL device description (HTTPRequest.Descriptor), which devices
//     serve to anyone by design.
//   - api-unauthenticated judges both: a request answered 2xx that carried no
//     Authorization scheme, no API-key header, no cookie, no secret URL parameter
//     (observe.IsSecretQueryKey, the names the HTTP dissector treats as secrets) and no
//     password-like body field, and was no login (a login presents a credential; the
//     password in its body is cleartext-credentials'). FHIR's capability statement,
//     /.well-known/ documents and health checks are public by design and not judged; nor
//     is a response whose request the capture lost. Its message says whether the open
//     requests were FHIR, another API, or both.
package cleartext

// Package cleartext holds the rules about sensitive traffic seen without encryption:
// HL7 v2 messages over MLLP, DICOM associations, and credentials.
//
// Everything these rules see was, by construction, readable on the wire: the passive
// engine only dissects what is not encrypted. Findings are keyed by the server's address
// and port. Patient data is never in the evidence (HL7 patient segments are counted by the
// dissector, never copied), and neither are secrets: a credential finding carries the
// credential's kind, where it was sent, the user name, a masked preview and its keyed
// hash, which is also the finding's Subject so the same secret on forty pumps is forty
// findings with one recognisable hash.
package cleartext

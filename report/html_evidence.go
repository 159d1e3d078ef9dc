package report

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// This file makes a finding's evidence readable in the HTML report: each key the rules
// write gets a label in words and its value a unit ("1024 bits", "10958 days (30.0
// years)", a date rather than a timestamp), and keys the row already shows elsewhere
// are left out. The JSON, CSV and SARIF outputs keep the keys as they are: tools read
// those.

// evLabel is how the page names an evidence key, and the unit of its number.
type evLabel struct {
	Label, Unit string
}

// evLabels are the keys the rules write. A key not listed is shown with its underscores
// as spaces and its first letter capitalised, so a new rule's evidence still reads.
var evLabels = map[string]evLabel{
	"applications":       {"Applications (sender -> receiver)", ""},
	"apis":               {"APIs", ""},
	"associations":       {"Associations", ""},
	"called_ae":          {"Called AE title", ""},
	"calling_ae":         {"Calling AE title", ""},
	"cert_role":          {"Certificate used for", ""},
	"cert_sha256":        {"Certificate (SHA-256)", ""},
	"certificates":       {"Certificates", ""},
	"chain_role":         {"Place in the chain", ""},
	"clients":            {"Clients", ""},
	"count":              {"Times seen", ""},
	"direction":          {"Direction", ""},
	"distinct_secrets":   {"Distinct secrets", ""},
	"downloads":          {"Downloads", ""},
	"hash":               {"Secret (keyed hash)", ""},
	"hl7_device_ids":     {"HL7 device identities", ""},
	"hosts":              {"Hosts", ""},
	"identities":         {"Identities", ""},
	"images":             {"Images", ""},
	"is_ca":              {"Certificate authority", ""},
	"issuer":             {"Issuer", ""},
	"key_bits":           {"Key size", "bits"},
	"key_type":           {"Key type", ""},
	"kind":               {"Kind", ""},
	"limit":              {"Policy setting", ""},
	"limit_days":         {"Policy limit", "days"},
	"media_types":        {"Media types", ""},
	"message_types":      {"Message types", ""},
	"messages":           {"Messages", ""},
	"methods":            {"Methods", ""},
	"not_after":          {"Valid until", ""},
	"not_before":         {"Valid from", ""},
	"partial":            {"Partial transfer", ""},
	"paths":              {"Path templates", ""},
	"patient_attributes": {"Patient attributes", ""},
	"patient_segments":   {"Patient segments", ""},
	"preview":            {"Secret (masked)", ""},
	"protocol":           {"Protocol", ""},
	"protocols":          {"Protocols", ""},
	"requests":           {"Requests", ""},
	"results":            {"Results", ""},
	"role":               {"Seen as", ""},
	"rsa_exponent":       {"RSA exponent", ""},
	"secrets":            {"Secrets", ""},
	"self_signed":        {"Self-signed", ""},
	"servers":            {"Servers", ""},
	"shared_as":          {"Shared as", ""},
	"shared_by":          {"Shared by", ""},
	"size":               {"Size", "bytes"},
	"sop_classes":        {"SOP classes", ""},
	"spki_sha256":        {"Public key (SPKI SHA-256)", ""},
	"statuses":           {"HTTP statuses", ""},
	"subject":            {"Subject", ""},
	"subjects":           {"Subjects", ""},
	"url":                {"Location", ""},
	"user":               {"User", ""},
	"validity_days":      {"Validity", "days"},
	"weaknesses":         {"Weaknesses", ""},
	"where":              {"Sent in", ""},
}

// evHidden are keys the findings table shows in columns of its own (when the finding
// was seen), or that restate another key (position beside chain_role).
var evHidden = map[string]bool{"observed_at": true, "first_seen": true, "last_seen": true}

// evDates are keys whose values are instants best read as a date.
var evDates = map[string]bool{"not_before": true, "not_after": true}

// evKeyLabel is the label of an evidence key.
func evKeyLabel(key string) string {
	if l, ok := evLabels[key]; ok {
		return l.Label
	}
	s := strings.ReplaceAll(term(key), "_", " ")
	r := []rune(s)
	if len(r) > 0 {
		r[0] = unicode.ToUpper(r[0])
	}
	return string(r)
}

// evValue renders the value of a known key with its unit, or as htmlEvidence would.
func evValue(key string, v reflect.Value, depth int) evNode {
	for v.IsValid() && (v.Kind() == reflect.Interface || v.Kind() == reflect.Pointer) && !v.IsNil() {
		v = v.Elem()
	}
	if evDates[key] && v.IsValid() {
		switch x := v.Interface().(type) {
		case time.Time:
			return evNode{Text: htmlDate(x)}
		case string:
			if tm, err := time.Parse(time.RFC3339Nano, x); err == nil {
				return evNode{Text: htmlDate(tm)}
			}
		}
	}
	n := htmlEvidence(v, depth)
	unit := evLabels[key].Unit
	if unit == "" || n.IsList || n.IsMap {
		return n
	}
	num, err := strconv.ParseFloat(n.Text, 64)
	if err != nil {
		return n
	}
	n.Text += " " + unit
	if key == "validity_days" && num >= 365 {
		n.Text += fmt.Sprintf(" (%.1f years)", num/365.25)
	}
	return n
}

// evFields turns an evidence map's keys into labelled fields, leaving out hidden keys
// and a position that chain_role already names.
func evFields(v reflect.Value, depth int) []evField {
	keys := make([]string, 0, v.Len())
	vals := map[string]reflect.Value{}
	for _, k := range v.MapKeys() {
		ks := fmt.Sprint(k.Interface())
		keys = append(keys, ks)
		vals[ks] = v.MapIndex(k)
	}
	_, hasChainRole := vals["chain_role"]
	var out []evField
	slices.Sort(keys)
	for _, k := range keys {
		if evHidden[k] || (k == "position" && hasChainRole) {
			continue
		}
		out = append(out, evField{Key: evKeyLabel(k), Val: evValue(k, vals[k], depth+1)})
	}
	return out
}

package inventory

import (
	"strings"
	"unicode"
)

// maker is one entry of a curated keyword table: the words that name a company in a
// registry organisation, a DHCP vendor class, a User-Agent or a certificate subject,
// and the name the inventory shows for it.
type maker struct {
	Name     string   // as shown in Asset.Manufacturer
	Keywords []string // matched on whole words, case and punctuation folded (fold)
}

// medicalMakers are manufacturers of networked medical devices: infusion pumps,
// patient monitors, ventilators, imaging modalities, laboratory analysers. A keyword is
// chosen to name the company's medical business only ("Philips Patient Monitoring",
// not "Philips", which also makes shavers; "ZOLL Medical", not "Zoll", a prefix of an
// unrelated registrant), because a match alone makes a host a medical device. The IEEE
// registry spells organisations its own way, so each maker lists the spellings seen
// there and in product strings (IntelliVue, Alaris, CARESCAPE are product lines).
var medicalMakers = []maker{
	{"Abbott", []string{"Abbott Diagnostics", "Abbott Medical"}},
	{"Agfa HealthCare", []string{"Agfa HealthCare"}},
	{"B. Braun", []string{"B Braun", "BBraun", "Braun Melsungen"}},
	{"Baxter", []string{"Baxter"}},
	{"BD (Becton Dickinson)", []string{"Becton Dickinson", "CareFusion", "Alaris", "BD Alaris"}},
	{"Beckman Coulter", []string{"Beckman Coulter"}},
	{"bioMérieux", []string{"bioMerieux", "bioMérieux"}},
	{"Canon Medical", []string{"Canon Medical", "Toshiba Medical"}},
	{"Carestream", []string{"Carestream"}},
	{"Dräger", []string{"Draeger", "Dräger", "Drager", "Drägerwerk", "Draegerwerk"}},
	{"Edwards Lifesciences", []string{"Edwards Lifesciences"}},
	{"Elekta", []string{"Elekta"}},
	{"Fresenius", []string{"Fresenius"}},
	{"GE Healthcare", []string{"GE Healthcare", "GE Medical", "Datex Ohmeda", "CARESCAPE"}},
	{"Getinge", []string{"Getinge", "Maquet"}},
	{"Hamilton Medical", []string{"Hamilton Medical"}},
	{"Hillrom (Welch Allyn)", []string{"Hill Rom", "Hillrom", "Welch Allyn"}},
	{"Hologic", []string{"Hologic"}},
	{"Hospira (ICU Medical)", []string{"Hospira"}},
	{"ICU Medical", []string{"ICU Medical"}},
	{"Masimo", []string{"Masimo"}},
	{"Medtronic", []string{"Medtronic", "Covidien"}},
	{"Mindray", []string{"Mindray"}},
	{"Natus Medical", []string{"Natus Medical"}},
	{"Nihon Kohden", []string{"Nihon Kohden"}},
	{"Nonin Medical", []string{"Nonin Medical"}},
	{"Omnicell", []string{"Omnicell"}},
	{"Philips Healthcare", []string{"Philips Medical", "Philips Patient Monitoring", "Philips Healthcare", "IntelliVue"}},
	{"Radiometer", []string{"Radiometer Medical"}},
	{"Roche Diagnostics", []string{"Roche Diagnostics"}},
	{"Siemens Healthineers", []string{"Siemens Healthineers", "Siemens Healthcare", "Siemens Medical"}},
	{"Smiths Medical", []string{"Smiths Medical"}},
	{"Spacelabs", []string{"Spacelabs"}},
	{"Stryker", []string{"Stryker"}},
	{"Sysmex", []string{"Sysmex"}},
	{"Terumo", []string{"Terumo"}},
	{"Varian Medical", []string{"Varian Medical"}},
	{"Vyaire", []string{"Vyaire"}},
	{"ZOLL Medical", []string{"ZOLL Medical"}},
}

// deviceWords name a kind of medical equipment rather than its maker: a certificate
// issued to "O=Infusion Systems" or a DHCP vendor class "patient monitor" says what the
// host is even when no maker is named. They weigh less than a maker.
var deviceWords = []string{
	"infusion", "infusion pump", "patient monitor", "patient monitoring", "ventilator", "defibrillator",
	"anesthesia", "anaesthesia", "dialysis", "pulse oximeter", "glucose meter", "syringe pump",
}

// networkMakers make switches, routers, firewalls and access points: an address whose
// own interface one of them registered is likely network gear.
var networkMakers = []maker{
	{"Allied Telesis", []string{"Allied Telesis"}},
	{"Arista", []string{"Arista Networks"}},
	{"Aruba", []string{"Aruba"}},
	{"Brocade", []string{"Brocade"}},
	{"Cisco", []string{"Cisco"}},
	{"Extreme Networks", []string{"Extreme Networks"}},
	{"Fortinet", []string{"Fortinet"}},
	{"Hirschmann", []string{"Hirschmann"}},
	{"Juniper", []string{"Juniper Networks"}},
	{"MikroTik", []string{"Routerboard", "MikroTik"}},
	{"Palo Alto Networks", []string{"Palo Alto Networks"}},
	{"Ruckus", []string{"Ruckus"}},
	{"Ubiquiti", []string{"Ubiquiti"}},
}

// pcMakers build desktops and laptops (and the NICs in them): a weak sign of a
// workstation, used only for a host seen as nothing but a client.
var pcMakers = []maker{
	{"Acer", []string{"Acer"}},
	{"Apple", []string{"Apple"}},
	{"ASUS", []string{"ASUSTek"}},
	{"Dell", []string{"Dell"}},
	{"Fujitsu", []string{"Fujitsu Client Computing", "Fujitsu Technology Solutions"}},
	{"HP", []string{"Hewlett Packard", "HP Inc"}},
	{"Intel", []string{"Intel Corporate"}},
	{"Lenovo", []string{"Lenovo", "LCFC"}},
	{"Microsoft", []string{"Microsoft"}},
}

// dicomRoots maps the UID roots that vendors register for their implementation class
// UIDs to the vendor: the implementation class UID of an association names the software
// that made it. OFFIS's dcmtk root names a toolkit, not a maker, and is kept apart.
var dicomRoots = []struct{ Root, Maker string }{
	{"1.2.840.113619.", "GE Healthcare"},
	{"1.3.12.2.1107.", "Siemens Healthineers"},
	{"1.3.46.670589.", "Philips Healthcare"},
}

// fold lowercases s and turns every run of characters that are neither letters nor
// digits into one space, with a space at each end, so that whole-word matching is a
// substring search: "B. Braun Melsungen AG" becomes " b braun melsungen ag ".
func fold(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte(' ')
	space := true
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(unicode.ToLower(r))
			space = false
			continue
		}
		if !space {
			b.WriteByte(' ')
			space = true
		}
	}
	if !space {
		b.WriteByte(' ')
	}
	return b.String()
}

// folded holds every keyword of the tables above as fold gives it, computed once.
var folded = map[string]string{}

func init() {
	for _, table := range [][]maker{medicalMakers, networkMakers, pcMakers} {
		for _, m := range table {
			for _, k := range m.Keywords {
				folded[k] = fold(k)
			}
		}
	}
	for _, w := range deviceWords {
		folded[w] = fold(w)
	}
}

// matchMaker returns the first maker of table that a keyword of names in s, and the
// keyword, or "" when none does.
func matchMaker(table []maker, s string) (name, keyword string) {
	if s == "" {
		return "", ""
	}
	f := fold(s)
	for _, m := range table {
		for _, k := range m.Keywords {
			if strings.Contains(f, folded[k]) {
				return m.Name, k
			}
		}
	}
	return "", ""
}

// matchDeviceWord returns the first of deviceWords in s, or "".
func matchDeviceWord(s string) string {
	if s == "" {
		return ""
	}
	f := fold(s)
	for _, w := range deviceWords {
		if strings.Contains(f, folded[w]) {
			return w
		}
	}
	return ""
}

// dicomMaker names the vendor whose root an implementation class UID is under, or "".
func dicomMaker(uid string) string {
	for _, r := range dicomRoots {
		if strings.HasPrefix(uid, r.Root) {
			return r.Maker
		}
	}
	return ""
}

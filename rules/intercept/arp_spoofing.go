package intercept

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/observe"
	"github.com/medscan/medscan/observe/oui"
	"github.com/medscan/medscan/rules"
)

func init() { rules.Register(arpSpoofing{}) }

// gratuitousBurst is how many announcements from one MAC for a contested address make
// a burst: a host announces itself a few times when its link comes up (RFC 5227 says
// two); a poisoner repeats its lie to keep the caches poisoned.
const gratuitousBurst = 3

// arpSpoofing flags an IPv4 address claimed in ARP by a second MAC while the first still
// claims it (the claims interleave: the address flips back and forth, arpwatch's "flip
// flop"), or by a MAC that also claims the addresses of other hosts. A burst of
// gratuitous announcements from the suspect is added to the signs; alone it is not one,
// since a host announces itself when its link comes up. One MAC taking an address over
// for good (a replaced device, a lease given to another host) is not a sign either.
type arpSpoofing struct{}

func (arpSpoofing) Meta() rules.Meta {
	return rules.Meta{
		ID:      "arp-spoofing",
		Owner:   findings.OwnerNetwork,
		Risk:    findings.RiskPatientData,
		Covers:  findings.Coverage{Domain: findings.DomainInterception, Needs: []findings.Evidence{findings.SeenARPClaims}},
		Title:   "An address is claimed in ARP by a second MAC (ARP spoofing)",
		Default: findings.High,
		Rationale: "On an Ethernet segment, hosts find each other's MAC through ARP, which has no authentication: " +
			"any host can answer for any address, and the last answer wins. An attacker who claims the gateway's, " +
			"the middleware's or the EHR's address receives the traffic meant for it and can read, change or drop " +
			"it before passing it on (arpspoof, ettercap, bettercap). Two MACs that keep claiming one address, a " +
			"MAC claiming the addresses of several hosts, or bursts of unsolicited announcements are the traces.",
		Remediation: "Locate the suspect MAC (the switch's MAC address table names its port; its vendor is in " +
			"the evidence) and disconnect it. Turn on Dynamic ARP Inspection with DHCP snooping, or static ARP " +
			"entries for the gateway and middleware on the clinical segment, and port security; alert on ARP " +
			"changes (arpwatch). Protect the traffic itself with TLS and mutual authentication, so that a host in " +
			"the middle cannot read or change it.",
		References: []string{
			"MITRE ATT&CK T1557.002 (ARP Cache Poisoning)",
			"RFC 826 (ARP), RFC 5227 (IPv4 Address Conflict Detection)",
			"NIST SP 800-82 Rev. 3, §6.2 (network segmentation and monitoring)",
			"HIPAA Security Rule, 45 CFR 164.312(e)(1) (transmission security)",
		},
	}
}

func (arpSpoofing) Check(c *rules.Context) {
	byAddr := map[string][]*observe.ARPClaim{}
	byMAC := map[string][]*observe.ARPClaim{}
	for _, a := range c.Set.ARP {
		byAddr[findings.AddrText(a.Addr)] = append(byAddr[findings.AddrText(a.Addr)], a)
		byMAC[a.MAC] = append(byMAC[a.MAC], a)
	}
	kinds := assetKinds(c.Set)
	contested := func(addr, mac string) bool {
		for _, o := range byAddr[addr] {
			if o.MAC != mac {
				return true
			}
		}
		return false
	}
	for _, addr := range slices.Sorted(maps.Keys(byAddr)) {
		claims := byAddr[addr]
		if len(claims) < 2 {
			continue
		}
		slices.SortFunc(claims, func(a, b *observe.ARPClaim) int {
			return cmp.Or(a.FirstSeen.Compare(b.FirstSeen), cmp.Compare(a.MAC, b.MAC))
		})
		takeovers := 0
		for _, a := range claims {
			takeovers += a.Takeovers
		}
		// Each MAC's signs. A MAC that also claims addresses other MACs claim speaks for
		// several hosts, which no owner does: it is the suspect wherever it came in the
		// capture. Otherwise the suspects are the later claimants, since a capture that
		// began before the attack saw the owner first.
		others := make([][]string, len(claims))
		multi := false
		for i, m := range claims {
			for _, o := range byMAC[m.MAC] {
				if a := findings.AddrText(o.Addr); a != addr && contested(a, m.MAC) {
					others[i] = append(others[i], a)
				}
			}
			slices.Sort(others[i])
			multi = multi || len(others[i]) > 0
		}
		for i, m := range claims {
			if multi && len(others[i]) == 0 || !multi && i == 0 {
				continue
			}
			var why []string
			overlap := false
			for j, o := range claims {
				if j != i && near(o.FirstSeen, o.LastSeen, m.FirstSeen, m.LastSeen) &&
					!o.LastSeen.Before(m.FirstSeen) && !m.LastSeen.Before(o.FirstSeen) {
					overlap = true
				}
			}
			if overlap {
				why = append(why, fmt.Sprintf("both MACs claimed it over the same time, the address changing hands %d times", takeovers))
			}
			if len(others[i]) > 0 {
				why = append(why, "the same MAC also claims "+strings.Join(listed(others[i]), ", ")+", claimed by other MACs too")
			}
			if len(why) == 0 {
				continue // one takeover for good: a replaced device or a reassigned lease
			}
			if m.Gratuitous >= gratuitousBurst {
				why = append(why, fmt.Sprintf("%d gratuitous announcements", m.Gratuitous))
			}
			c.Emit(spoofFinding(addr, m, claims, others[i], why, kinds))
		}
	}
}

func spoofFinding(addr string, m *observe.ARPClaim, claims []*observe.ARPClaim, others, why []string, kinds map[string]string) findings.Finding {
	kind := kinds[addr]
	var macs []any
	var prev []string
	for _, o := range claims {
		macs = append(macs, map[string]any{
			"mac":        o.MAC,
			"vendor":     oui.Lookup(o.MAC),
			"requests":   o.Requests,
			"replies":    o.Replies,
			"gratuitous": o.Gratuitous,
			"takeovers":  o.Takeovers,
			"first_seen": ts(o.FirstSeen),
			"last_seen":  ts(o.LastSeen),
		})
		if o != m {
			prev = append(prev, o.MAC)
		}
	}
	vendor := cmp.Or(oui.Lookup(m.MAC), "unknown vendor")
	what := addr
	if kind != "" {
		what += " (" + kind + ")"
	}
	f := findings.Finding{
		Host: addr, Subject: m.MAC, Severity: severityFor(kind),
		Message: fmt.Sprintf("%s is claimed in ARP by %s (%s) as well as by %s: %s",
			what, m.MAC, vendor, strings.Join(prev, ", "), strings.Join(why, "; ")),
		Time: m.FirstSeen, FirstSeen: m.FirstSeen, LastSeen: m.LastSeen,
		Evidence: map[string]any{
			"suspect_mac":    m.MAC,
			"suspect_vendor": oui.Lookup(m.MAC),
			"signs":          why,
			"macs":           macs,
			"also_claims":    listed(others),
		},
	}
	if kind != "" {
		f.Evidence["asset_kind"] = kind
	}
	return f
}

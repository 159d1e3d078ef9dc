package findings

import (
	"bytes"
	"cmp"
	"encoding/json"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/medscan/medscan/observe"
)

// Sort puts every list of the report in report order (see the package documentation).
// Each order is total: findings are told apart by their fingerprint and time, and
// entries of the other lists the listed keys do not tell apart are ordered by their
// whole JSON encoding, so that the order never depends on how the entries were produced
// (which capture worker saw what first, which rows a database returned first).
func (r *Report) Sort() {
	SortFindings(r.Findings)
	slices.SortStableFunc(r.Suppressed, func(a, b SuppressedFinding) int { return compareFindings(a.Finding, b.Finding) })
	for i := range r.Certificates {
		sortTotal(r.Certificates[i].SeenOn, func(a, b Sighting) int {
			return cmp.Or(CompareHosts(a.Host, b.Host), cmp.Compare(a.Port, b.Port), cmp.Compare(a.Role, b.Role),
				cmp.Compare(a.Position, b.Position), cmp.Compare(a.SNI, b.SNI), a.Peer.Compare(b.Peer),
				cmp.Compare(a.Source, b.Source), a.Time.Compare(b.Time))
		})
	}
	sortTotal(r.Certificates, func(a, b Certificate) int {
		return cmp.Or(cmp.Compare(a.Subject, b.Subject), cmp.Compare(a.SHA256, b.SHA256))
	})
	sortTotal(r.TLSSessions, compareSessions)
	SortFlows(r.Flows)
	sortTotal(r.Services, func(a, b Service) int {
		return cmp.Or(CompareHosts(a.Host, b.Host), cmp.Compare(a.Port, b.Port), cmp.Compare(a.Transport, b.Transport),
			cmp.Compare(a.Source, b.Source), cmp.Compare(a.Protocol, b.Protocol))
	})
	sortTotal(r.Assets, func(a, b Asset) int { return a.Addr.Compare(b.Addr) })
	sortTotal(r.QuietHosts, func(a, b QuietHost) int { return a.Addr.Compare(b.Addr) })
	sortTotal(r.Credentials, func(a, b Credential) int {
		return cmp.Or(compareConversations(a.Conversation, b.Conversation), cmp.Compare(a.Protocol, b.Protocol),
			cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Where, b.Where), cmp.Compare(a.User, b.User),
			cmp.Compare(a.Hash, b.Hash), a.FirstSeen.Compare(b.FirstSeen))
	})
	sortTotal(r.HTTP, func(a, b HTTPRequest) int {
		return cmp.Or(compareConversations(a.Conversation, b.Conversation), cmp.Compare(a.HostHeader, b.HostHeader),
			cmp.Compare(a.Path, b.Path), cmp.Compare(a.Method, b.Method), cmp.Compare(a.AuthScheme, b.AuthScheme),
			cmp.Compare(a.Status, b.Status), cmp.Compare(a.BodySHA256, b.BodySHA256), a.FirstSeen.Compare(b.FirstSeen))
	})
	sortTotal(r.MQTT, func(a, b MQTTConnect) int {
		return cmp.Or(compareConversations(a.Conversation, b.Conversation), a.FirstSeen.Compare(b.FirstSeen),
			cmp.Compare(a.ClientID, b.ClientID), cmp.Compare(a.Username, b.Username))
	})
	sortTotal(r.HL7, func(a, b HL7Message) int {
		return cmp.Or(compareConversations(a.Conversation, b.Conversation), cmp.Compare(a.MessageType, b.MessageType),
			cmp.Compare(a.TriggerEvent, b.TriggerEvent), cmp.Compare(a.SendingApp, b.SendingApp),
			cmp.Compare(a.SendingFacility, b.SendingFacility), cmp.Compare(a.ReceivingApp, b.ReceivingApp),
			cmp.Compare(a.ReceivingFacility, b.ReceivingFacility), cmp.Compare(a.Version, b.Version),
			CompareBool(a.IsAck, b.IsAck), cmp.Compare(a.AckCode, b.AckCode), a.FirstSeen.Compare(b.FirstSeen))
	})
	sortTotal(r.DICOM, func(a, b DICOMAssociation) int {
		return cmp.Or(compareConversations(a.Conversation, b.Conversation), a.FirstSeen.Compare(b.FirstSeen),
			cmp.Compare(a.CallingAE, b.CallingAE), cmp.Compare(a.CalledAE, b.CalledAE), cmp.Compare(a.Result, b.Result))
	})
	sortTotal(r.HostNames, func(a, b HostName) int {
		return cmp.Or(a.Addr.Compare(b.Addr), cmp.Compare(a.Source, b.Source), cmp.Compare(a.Name, b.Name),
			cmp.Compare(a.MAC, b.MAC))
	})
	sortTotal(r.DHCPLeases, func(a, b DHCPLease) int {
		return cmp.Or(cmp.Compare(a.MAC, b.MAC), a.FirstSeen.Compare(b.FirstSeen), a.Addr.Compare(b.Addr),
			cmp.Compare(a.Hostname, b.Hostname), cmp.Compare(a.VendorClass, b.VendorClass))
	})
	sortTotal(r.Transfers, func(a, b FileTransfer) int {
		return cmp.Or(compareConversations(a.Conversation, b.Conversation), cmp.Compare(a.Path, b.Path),
			cmp.Compare(a.SHA256, b.SHA256), a.FirstSeen.Compare(b.FirstSeen))
	})
	sortTotal(r.Probes, func(a, b ProbeEndpoint) int {
		return cmp.Or(CompareHosts(a.Host, b.Host), cmp.Compare(a.Port, b.Port))
	})
	sortTotal(r.ProbeHosts, func(a, b ProbeHost) int { return a.Addr.Compare(b.Addr) })
	sortTotal(r.SensorPaths, func(a, b observe.SensorPath) int { return cmp.Compare(a.Path, b.Path) })
	sortTotal(r.ARPClaims, func(a, b observe.ARPClaim) int {
		return cmp.Or(a.Addr.Compare(b.Addr), cmp.Compare(a.MAC, b.MAC), a.FirstSeen.Compare(b.FirstSeen))
	})
	sortTotal(r.DHCPReplies, func(a, b observe.DHCPReply) int {
		return cmp.Or(a.Server.Compare(b.Server), cmp.Compare(a.ClientMAC, b.ClientMAC), cmp.Compare(a.Type, b.Type),
			a.Offered.Compare(b.Offered), a.Router.Compare(b.Router), a.DNS.Compare(b.DNS), a.FirstSeen.Compare(b.FirstSeen))
	})
	sortTotal(r.StartTLSGreetings, func(a, b StartTLSGreeting) int {
		return cmp.Or(compareConversations(a.Conversation, b.Conversation), cmp.Compare(a.Protocol, b.Protocol),
			CompareBool(a.Offered, b.Offered), cmp.Compare(a.Outcome, b.Outcome), a.FirstSeen.Compare(b.FirstSeen))
	})
	sortTotal(r.KeyFiles, func(a, b KeyFile) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Position, b.Position), cmp.Compare(a.Path, b.Path))
	})
}

// compareConversations orders by server address, port, then client address.
func compareConversations(a, b Conversation) int {
	return cmp.Or(CompareHosts(a.Host, b.Host), cmp.Compare(a.Port, b.Port), cmp.Compare(a.Target, b.Target),
		cmp.Compare(a.Via, b.Via), CompareHosts(a.Client, b.Client))
}

func compareSessions(a, b TLSSession) int {
	return cmp.Or(compareConversations(a.Conversation, b.Conversation), cmp.Compare(a.SNI, b.SNI),
		cmp.Compare(a.TLSSession.Version, b.TLSSession.Version), cmp.Compare(a.CipherID, b.CipherID),
		a.FirstSeen.Compare(b.FirstSeen), a.LastSeen.Compare(b.LastSeen), cmp.Compare(a.Source, b.Source))
}

// CompareBool orders false before true.
func CompareBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// sortTotal sorts list by primary, then by each entry's JSON encoding (computed only for
// entries primary does not tell apart). When primary tells every entry apart (addresses
// of a host list, the common case) the list is sorted in place, without a copy of each
// entry: the order is the same, primary alone being total there.
func sortTotal[T any](list []T, primary func(a, b T) int) {
	if len(list) < 2 {
		return
	}
	slices.SortFunc(list, primary)
	tie := false
	for i := 1; i < len(list) && !tie; i++ {
		tie = primary(list[i-1], list[i]) == 0
	}
	if !tie {
		return
	}
	type entry struct {
		v   T
		enc []byte
	}
	es := make([]*entry, len(list))
	for i := range list {
		es[i] = &entry{v: list[i]}
	}
	encode := func(e *entry) []byte {
		if e.enc == nil {
			e.enc, _ = json.Marshal(e.v)
		}
		return e.enc
	}
	slices.SortFunc(es, func(a, b *entry) int {
		if c := primary(a.v, b.v); c != 0 {
			return c
		}
		return bytes.Compare(encode(a), encode(b))
	})
	for i, e := range es {
		list[i] = e.v
	}
}

// CompareHosts orders addresses numerically (IPv4 before IPv6), with "" first and
// anything that is not an address after them, by text.
func CompareHosts(a, b string) int {
	if a == b {
		return 0 // the common case when sorting by host: nothing to parse
	}
	pa, ea := netip.ParseAddr(a)
	pb, eb := netip.ParseAddr(b)
	switch {
	case ea == nil && eb == nil:
		return pa.Compare(pb)
	case a == "" || b == "":
		return cmp.Compare(a, b) // "" sorts first
	case ea == nil:
		return -1
	case eb == nil:
		return 1
	}
	return cmp.Compare(a, b)
}

// compareFindings is report order: most severe first, then by rule, host (numerically),
// port, subject and fingerprint, so that the order never depends on how they were
// produced.
func compareFindings(a, b Finding) int {
	return cmp.Or(cmp.Compare(b.Severity, a.Severity), cmp.Compare(a.Rule, b.Rule), CompareHosts(a.Host, b.Host),
		cmp.Compare(a.Port, b.Port), cmp.Compare(a.Subject, b.Subject), cmp.Compare(a.Fingerprint, b.Fingerprint),
		a.Time.Compare(b.Time))
}

// SortFindings puts findings in report order.
func SortFindings(fs []Finding) { slices.SortStableFunc(fs, compareFindings) }

// Target renders a finding's host and port the way one types them: "10.0.0.5:443",
// "[2001:db8::1]:443", "10.0.0.5" without a port, "" without a host.
func Target(host string, port int) string {
	if port == 0 || host == "" {
		return host
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return netip.AddrPortFrom(a, uint16(port)).String()
	}
	if strings.Contains(host, ":") {
		return "[" + host + "]:" + strconv.Itoa(port)
	}
	return host + ":" + strconv.Itoa(port)
}

// Holder names who presents a certificate, or holds its key, in messages and evidence:
// "10.20.1.11:443" for a server, "client 10.20.1.7" for a client (role "client"),
// "file certs/chain.pem#2" for a certificate read from a file (no host; file is its
// FileRef), "file" when the file is not known (a store of an older medscan).
// ParseHolder reads it back.
func Holder(host string, port int, role, file string) string {
	switch {
	case host == "" && file != "":
		return "file " + file
	case host == "":
		return "file"
	case role == "client":
		return "client " + host
	}
	return Target(host, port)
}

// ParseHolder reads what Holder wrote: the host ("" for a file), the port (0 for a
// client), the role ("server", "client", or "" for a file); ok is false for anything
// else.
func ParseHolder(s string) (host string, port int, role string, ok bool) {
	if s == "file" || strings.HasPrefix(s, "file ") {
		return "", 0, "", true
	}
	if c, isClient := strings.CutPrefix(s, "client "); isClient {
		return c, 0, "client", c != ""
	}
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		return "", 0, "", false
	}
	return AddrText(ap.Addr()), int(ap.Port()), "server", true
}

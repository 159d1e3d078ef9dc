package observe

import (
	"net/netip"
	"strconv"
	"time"
)

// The facts the signs of a man in the middle are judged from (rules/intercept): who
// claimed which address in ARP, which DHCP servers answered which clients, and what a
// mail server's greeting said about STARTTLS on each session. They are observed like
// everything else, grouped and capped in the Set, and judged only by the rules.

// The caps on the interception observations a Set keeps (see Set).
const (
	MaxARPClaims = 100000
	MaxDHCPReply = 50000
	MaxGreetings = 50000
)

// ARPClaim is one MAC address's claims, in ARP, to one IPv4 address: the sender fields
// of requests, replies and announcements. ARP is where a host says "this address is at
// my MAC", and where an attacker in the middle lies about it.
type ARPClaim struct {
	Addr       netip.Addr `json:"ip"`
	MAC        string     `json:"mac"`        // lowercase, colon separated
	Requests   int        `json:"requests"`   // requests whose sender this was
	Replies    int        `json:"replies"`    // replies whose sender this was
	Gratuitous int        `json:"gratuitous"` // announcements: sender and target address the same
	// Takeovers counts the times the address moved to this MAC from another one, in
	// capture order (arpwatch's "changed ethernet address"; back and forth is its
	// "flip flop").
	Takeovers int       `json:"takeovers"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
}

// The DHCP replies a DHCPReply groups (DHCPReply.Type).
const (
	DHCPOffer = "offer"
	DHCPAck   = "ack"
	DHCPNak   = "nak"
)

// DHCPReply is one DHCP server's replies of one type to one client. A client whose
// broadcasts two servers answer is on the segment of both.
type DHCPReply struct {
	Server    netip.Addr `json:"server"`     // option 54, else the reply's source address
	ClientMAC string     `json:"client_mac"` // chaddr
	Type      string     `json:"type"`       // DHCPOffer, DHCPAck or DHCPNak
	Offered   netip.Addr `json:"offered_ip"` // yiaddr; invalid for a NAK
	Router    netip.Addr `json:"router"`     // the first router of option 3: the gateway the server hands out
	DNS       netip.Addr `json:"dns"`        // the first server of option 6
	Count     int        `json:"count"`
	FirstSeen time.Time  `json:"first_seen"`
	LastSeen  time.Time  `json:"last_seen"`
}

// What became of a session whose greeting was seen (StartTLSGreeting.Outcome).
const (
	StartTLSUpgraded = "upgraded" // the client asked for TLS and the server agreed
	StartTLSDeclined = "refused"  // the client asked and the server said no
	StartTLSClear    = "clear"    // the client never asked: the session stayed in clear
)

// StartTLSGreeting is what a server's capability list (SMTP's EHLO reply, IMAP's
// CAPABILITY, POP3's CAPA) said about STARTTLS (POP3: STLS) on one client's sessions,
// and what became of them. A server that lists it
// to some sessions and not to others, or a client that upgrades some sessions and not
// others, is what a downgrade in the middle looks like.
type StartTLSGreeting struct {
	Flow      Flow      `json:"-"`
	Protocol  string    `json:"protocol"` // "smtp", "imap", "pop3"
	Offered   bool      `json:"offered"`  // the capability list named STARTTLS
	Outcome   string    `json:"outcome"`  // StartTLSUpgraded, StartTLSDeclined or StartTLSClear
	Count     int       `json:"count"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
}

// AddARP implements Sink.
func (s *Set) AddARP(c ARPClaim) {
	if c.LastSeen.IsZero() {
		c.LastSeen = c.FirstSeen
	}
	key := c.Addr.String() + "|" + c.MAC
	keep(s, &s.arp, &s.ARP, "arp_claims"+notKeptSuffix, key, &c, func(o *ARPClaim, c ARPClaim) {
		o.Requests += c.Requests
		o.Replies += c.Replies
		o.Gratuitous += c.Gratuitous
		o.Takeovers += c.Takeovers
		Widen(&o.FirstSeen, &o.LastSeen, c.FirstSeen, c.LastSeen)
	})
}

// AddDHCPReply implements Sink.
func (s *Set) AddDHCPReply(r DHCPReply) {
	tally(&r.Count, r.FirstSeen, &r.LastSeen)
	key := r.Server.String() + "|" + r.ClientMAC + "|" + r.Type + "|" + r.Offered.String() + "|" + r.Router.String() + "|" + r.DNS.String()
	keep(s, &s.dhcpReplies, &s.DHCPReplies, "dhcp_replies"+notKeptSuffix, key, &r, func(o *DHCPReply, r DHCPReply) {
		o.Count += r.Count
		Widen(&o.FirstSeen, &o.LastSeen, r.FirstSeen, r.LastSeen)
	})
}

// AddGreeting implements Sink.
func (s *Set) AddGreeting(g StartTLSGreeting) {
	tally(&g.Count, g.FirstSeen, &g.LastSeen)
	key := g.Flow.Client.Addr().String() + "|" + g.Flow.serverKey() + "|" + g.Protocol + "|" +
		strconv.FormatBool(g.Offered) + "|" + g.Outcome
	keep(s, &s.greetings, &s.Greetings, "starttls_greetings"+notKeptSuffix, key, &g, func(o *StartTLSGreeting, g StartTLSGreeting) {
		o.Count += g.Count
		Widen(&o.FirstSeen, &o.LastSeen, g.FirstSeen, g.LastSeen)
	})
}

// Package protocols lists the dissectors the passive engine tries on every new stream,
// in the order it tries them, and the datagram dissectors it offers every UDP datagram. The order matters only for speed: every Detect is cheap and
// exact enough that no two claim the same bytes, so the most common protocols go first.
package protocols

import (
	"github.com/medscan/medscan/capture/dhcpwire"
	"github.com/medscan/medscan/capture/dicomwire"
	"github.com/medscan/medscan/capture/dissect"
	"github.com/medscan/medscan/capture/dnswire"
	"github.com/medscan/medscan/capture/hl7wire"
	"github.com/medscan/medscan/capture/httpwire"
	"github.com/medscan/medscan/capture/ldapwire"
	"github.com/medscan/medscan/capture/loginwire"
	"github.com/medscan/medscan/capture/mqttwire"
	"github.com/medscan/medscan/capture/mysqlwire"
	"github.com/medscan/medscan/capture/pgwire"
	"github.com/medscan/medscan/capture/smtpwire"
	"github.com/medscan/medscan/capture/snmpwire"
	"github.com/medscan/medscan/capture/sockswire"
	"github.com/medscan/medscan/capture/telnetwire"
	"github.com/medscan/medscan/capture/tftpwire"
	"github.com/medscan/medscan/capture/tlswire"
	"github.com/medscan/medscan/capture/xmppwire"
)

// All returns every stream dissector medscan has.
func All() []dissect.Dissector {
	return []dissect.Dissector{
		tlswire.Dissector,
		httpwire.Dissector,
		hl7wire.Dissector,
		dicomwire.Dissector,
		mqttwire.Dissector,
		loginwire.FTP,
		loginwire.POP3,
		loginwire.IMAP,
		smtpwire.Dissector,
		// Databases, directories and chat that upgrade to TLS in place (STARTTLS).
		mysqlwire.Dissector,
		pgwire.Dissector,
		ldapwire.Dissector,
		xmppwire.Dissector,
		// SOCKS late: its client greeting is a few binary bytes (05 01 00), which the
		// exact detectors above never claim.
		sockswire.Dissector,
		// Telnet last: its Detect wants an option negotiation (IAC WILL/WONT/DO/DONT),
		// which no other protocol here begins with, and it is the rarest.
		telnetwire.Dissector,
	}
}

// Datagrams returns every UDP datagram dissector medscan has, in the order the engine
// offers each datagram to them. Each is chosen by its well-known ports and a content
// check (DHCP's magic cookie, a plausible name service header, SNMP's BER header, a TFTP
// request's mode), so no two claim the same datagram; TFTP goes last because, while a
// transfer is open, it looks up every datagram's port pair.
func Datagrams() []dissect.DatagramDissector {
	return []dissect.DatagramDissector{
		dnswire.Dissector,
		dhcpwire.Dissector,
		snmpwire.Dissector,
		tftpwire.Dissector,
	}
}

// Package protocols lists the dissectors the passive engine tries on every new stream,
// in the order it tries them. The order matters only for speed: every Detect is cheap and
// exact enough that no two claim the same bytes, so the most common protocols go first.
package protocols

import (
	"github.com/medscan/medscan/capture/dicomwire"
	"github.com/medscan/medscan/capture/dissect"
	"github.com/medscan/medscan/capture/hl7wire"
	"github.com/medscan/medscan/capture/httpwire"
	"github.com/medscan/medscan/capture/loginwire"
	"github.com/medscan/medscan/capture/mqttwire"
	"github.com/medscan/medscan/capture/smtpwire"
	"github.com/medscan/medscan/capture/tlswire"
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
	}
}

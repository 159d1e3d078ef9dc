package smtpwire

import (
	"bytes"

	"github.com/medscan/medscan/capture/dissect"
	"github.com/medscan/medscan/capture/internal/lines"
)

// Dissector dissects SMTP sessions for AUTH credentials and STARTTLS.
var Dissector = dissect.Dissector{Name: "smtp", Detect: Detect, New: New}

var (
	yesClient = dissect.Match{Verdict: dissect.Yes, FromClient: true} // a command
	yesServer = dissect.Match{Verdict: dissect.Yes, FromServer: true}
	needMore  = dissect.Match{Verdict: dissect.NeedMore}
	no        = dissect.Match{}
)

// Detect claims a server greeting ("220 " or "220-") whose first line names SMTP or
// ESMTP, or a client that opens with EHLO or HELO.
//
// FTP greets with "220" too: loginwire's FTP detector claims exactly the 220 banners
// whose first line does not name SMTP. Both wait for the first line's end unless "SMTP"
// has already shown, so that one and only one of them claims a banner however it is
// segmented.
func Detect(first []byte) dissect.Match {
	if len(first) == 0 {
		return needMore
	}
	more := false
	for _, p := range [...]string{"220 ", "220-"} {
		full, partial := prefixFold(first, p)
		if partial {
			more = true
		}
		if !full {
			continue
		}
		line, complete := first, false
		if i := bytes.IndexByte(first, '\n'); i >= 0 {
			line, complete = first[:i], true
		}
		switch {
		case lines.ContainsFold(line, "smtp"):
			return yesServer
		case complete:
			return no
		}
		return needMore
	}
	for _, p := range [...]string{"EHLO ", "HELO "} {
		full, partial := prefixFold(first, p)
		if full {
			return yesClient
		}
		more = more || partial
	}
	if more {
		return needMore
	}
	return no
}

// prefixFold compares the start of b with a prefix, ignoring ASCII case: full says b holds
// the whole prefix, partial that b is shorter but agrees so far.
func prefixFold(b []byte, prefix string) (full, partial bool) {
	n := min(len(b), len(prefix))
	if !lines.EqualFold(b[:n], prefix[:n]) {
		return false, false
	}
	return n == len(prefix), n < len(prefix)
}

package loginwire

import (
	"bytes"

	"github.com/medscan/medscan/capture/dissect"
	"github.com/medscan/medscan/capture/internal/lines"
)

// The three dissectors. FTP and POP3 share one implementation (see the package comment).
var (
	// FTP dissects FTP logins.
	FTP = dissect.Dissector{Name: "ftp", Detect: DetectFTP, New: newFor(protoFTP)}
	// POP3 dissects POP3 logins.
	POP3 = dissect.Dissector{Name: "pop3", Detect: DetectPOP3, New: newFor(protoPOP3)}
	// IMAP dissects IMAP logins.
	IMAP = dissect.Dissector{Name: "imap", Detect: DetectIMAP, New: newFor(protoIMAP)}
)

var (
	yesClient = dissect.Match{Verdict: dissect.Yes, FromClient: true} // a command
	yesServer = dissect.Match{Verdict: dissect.Yes, FromServer: true}
	needMore  = dissect.Match{Verdict: dissect.NeedMore}
	no        = dissect.Match{}
)

// prefixFold compares the start of b with a prefix, ignoring ASCII case: full says b holds
// the whole prefix, partial that b is shorter but agrees so far.
func prefixFold(b []byte, prefix string) (full, partial bool) {
	n := min(len(b), len(prefix))
	if !lines.EqualFold(b[:n], prefix[:n]) {
		return false, false
	}
	return n == len(prefix), n < len(prefix)
}

// firstMatch tries the prefixes in order.
func firstMatch(b []byte, m dissect.Match, prefixes ...string) (dissect.Match, bool) {
	more := false
	for _, p := range prefixes {
		full, partial := prefixFold(b, p)
		if full {
			return m, true
		}
		more = more || partial
	}
	if more {
		return needMore, true
	}
	return no, false
}

// DetectFTP claims an FTP banner ("220 " or "220-", but not an SMTP one) or a client that
// opens with USER or AUTH TLS/SSL.
//
// SMTP greets with "220" too; smtpwire claims a 220 banner whose first line names SMTP
// and this refuses it. Both decide on the whole first line (NeedMore until its end, unless
// "SMTP" already showed) so that whatever the segmentation exactly one of them claims it.
func DetectFTP(first []byte) dissect.Match {
	if len(first) == 0 {
		return needMore
	}
	if m, ok := firstMatch(first, yesServer, "220 ", "220-"); ok {
		if m.Verdict == dissect.Yes {
			line, complete := first, false
			if i := bytes.IndexByte(line, '\n'); i >= 0 {
				line, complete = line[:i], true
			}
			switch {
			case lines.ContainsFold(line, "smtp"):
				return no
			case !complete:
				return needMore
			}
		}
		return m
	}
	if m, ok := firstMatch(first, yesClient, "USER ", "AUTH TLS", "AUTH SSL"); ok {
		return m
	}
	return no
}

// DetectPOP3 claims a "+OK" banner or a client that opens with USER, APOP or AUTH (other
// than AUTH TLS/SSL, which is FTP's).
func DetectPOP3(first []byte) dissect.Match {
	if len(first) == 0 {
		return needMore
	}
	if m, ok := firstMatch(first, yesServer, "+OK"); ok {
		return m
	}
	for _, ftpOnly := range []string{"AUTH TLS", "AUTH SSL"} {
		switch full, partial := prefixFold(first, ftpOnly); {
		case full:
			return no
		case partial && len(first) >= len("AUTH "):
			return needMore // "AUTH T": TLS (FTP) or another mechanism (POP3)?
		}
	}
	if m, ok := firstMatch(first, yesClient, "USER ", "APOP ", "AUTH "); ok {
		return m
	}
	return no
}

// imapCommands open a client's session often enough to identify IMAP from a tagged line.
var imapCommands = []string{"LOGIN ", "CAPABILITY\r", "CAPABILITY\n", "AUTHENTICATE ", "STARTTLS\r", "STARTTLS\n", "ID ", "NOOP\r", "NOOP\n"}

// DetectIMAP claims an IMAP greeting ("* OK", "* PREAUTH") or a tagged client command
// such as "a1 LOGIN" or "A001 CAPABILITY", never an SMTP "EHLO name" or "HELO name".
func DetectIMAP(first []byte) dissect.Match {
	if len(first) == 0 {
		return needMore
	}
	if m, ok := firstMatch(first, yesServer, "* OK", "* PREAUTH"); ok {
		return m
	}
	// tag: 1..32 characters of letters, digits and a few punctuation marks.
	i := 0
	for i < len(first) && i <= 32 && tagChar(first[i]) {
		i++
	}
	switch {
	case i == len(first) && i <= 32:
		return needMore
	case i == 0 || i > 32 || first[i] != ' ':
		return no
	}
	if lines.EqualFold(first[:i], "ehlo") || lines.EqualFold(first[:i], "helo") {
		return no // an SMTP client's greeting (smtpwire's), whatever host name follows
	}
	if string(first[:i]) == "220" {
		return no // an FTP or SMTP server's greeting ("220 LOGIN ready"), which those detectors claim
	}
	if m, ok := firstMatch(first[i+1:], yesClient, imapCommands...); ok {
		return m
	}
	if len(first) == i+1 {
		return needMore
	}
	return no
}

func tagChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_'
}

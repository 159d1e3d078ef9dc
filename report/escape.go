package report

import (
	"strings"

	"github.com/medscan/medscan/observe"
)

// Every writer starts from a tidy document (Registry.New tidies it: findings.Tidy, every
// string through observe.Clean, the one sanitizer), so no control character, bidirectional override or
// ANSI sequence reaches any output. What follows is each output's own escaping on top of
// it, one policy per output:
//   - terminal: nothing more (term);
//   - HTML: html/template escapes every value it writes;
//   - JSON: encoding/json escapes what JSON needs;
//   - CSV: csvCell defuses formulas;
//   - SARIF: sarifText escapes SARIF's embedded-link brackets, mdEscape Markdown.
// Writers still pass strings through term (or csvCell, sarifText) rather than trusting
// the caller to have tidied the document: it costs a scan of the bytes.

// term is text as a terminal shows it.
func term(s string) string { return observe.Clean(s) }

// csvCell defuses a cell against CSV (formula) injection, as OWASP describes it: a
// spreadsheet runs a cell that starts with =, +, -, @, a tab or a carriage return as a
// formula, and these cells carry text from the network (an HL7 application name, a
// certificate subject). A leading apostrophe makes the spreadsheet show the text as
// text; the cell is otherwise the cleaned text, and encoding/csv quotes what needs
// quoting.
func csvCell(s string) string {
	s = observe.Clean(s)
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// sarifText escapes a plain-text SARIF message: SARIF reads "[text](target)" in a
// message as an embedded link (§3.11.6), so square brackets from the network (an IPv6
// address, an HL7 application name) are escaped with a backslash, as is the backslash.
func sarifText(s string) string {
	return strings.NewReplacer(`\`, `\\`, `[`, `\[`, `]`, `\]`).Replace(observe.Clean(s))
}

// mdEscape keeps catalog text from being read as Markdown markup in help.markdown.
func mdEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, "`", "\\`", `*`, `\*`, `_`, `\_`, `[`, `\[`, `]`, `\]`,
		`<`, `&lt;`, `>`, `&gt;`).Replace(observe.Clean(s))
}

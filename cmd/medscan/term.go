package main

import (
	"io"
	"os"
	"strconv"

	"github.com/medscan/medscan/report"
)

// colorWanted is true unless --no-color, NO_COLOR or TERM=dumb say otherwise (the
// caller checks that the output is a terminal).
func colorWanted(noColor bool) bool {
	return !noColor && os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb"
}

// terminalWidth is the columns text output fits: $COLUMNS when set, else the
// terminal's width when writing to one, else report.DefaultWidth (a file or a pipe has
// no width; the default reads well in a log and in an 80-column pager alike).
func terminalWidth(w io.Writer, toTerminal bool) int {
	if c, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && c > 0 {
		return max(c, minWidth)
	}
	if f, ok := w.(*os.File); ok && toTerminal {
		if c := ttyColumns(f); c > 0 {
			return max(c, minWidth)
		}
	}
	return report.DefaultWidth
}

// minWidth is the narrowest layout medscan's tables attempt; a narrower terminal wraps.
const minWidth = 60

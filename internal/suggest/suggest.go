// Package suggest finds the word a user probably meant: the one "did you mean" rule of
// medscan's command line, configuration file and policy, so that a typo is answered the
// same way wherever it is made.
package suggest

import "strings"

// Closest returns the candidate typed was probably meant to be, or "" when none is
// near: within a few edits for its length (one in four characters, one to three; a swap
// of two neighbours is one edit, case ignored), or starting with most of it. Ties go to
// the earlier candidate.
func Closest(typed string, candidates []string) string {
	typed = strings.ToLower(typed)
	limit := max(1, min(3, len(typed)/4))
	// Scores are doubled edits; a candidate near only by its start scores one more than
	// a true edit distance of the same size, so "pacp" means pcap, not packets.
	best, bestScore := "", 2*limit+2
	for _, c := range candidates {
		score := 2 * Distance(typed, strings.ToLower(c))
		if p := commonPrefix(typed, strings.ToLower(c)); p >= 3 && 3*p >= 2*len(typed) && score > 2*limit {
			score = 2*limit + 1
		}
		if score < bestScore {
			best, bestScore = c, score
		}
	}
	return best
}

func commonPrefix(a, b string) int {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	return i
}

// Distance is the edit distance between a and b in runes (insertions, deletions,
// substitutions, and a swap of two neighbours counted as one: "pacp" is one edit from
// "pcap").
func Distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}

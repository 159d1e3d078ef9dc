package store

import (
	"iter"
	"slices"
	"strings"
)

// keysPerQuery bounds the keys one query names in an IN list (key sightings, the lint
// cache): well under the bind variables SQLite (32,766) and PostgreSQL (65,535) accept
// in one statement, and few queries for a scan's keys or certificates (1,200 in three).
// A variable so that a test can cross chunks with a few keys.
var keysPerQuery = 500

// inLists yields, for each run of at most keysPerQuery keys, an IN list of bound
// parameters ("(?, ?, …)") and its arguments: before, then the run's keys.
func inLists(keys []string, before ...any) iter.Seq2[string, []any] {
	return func(yield func(string, []any) bool) {
		for chunk := range slices.Chunk(keys, keysPerQuery) {
			args := append(make([]any, 0, len(before)+len(chunk)), before...)
			for _, k := range chunk {
				args = append(args, k)
			}
			if !yield("("+placeholders(len(chunk))+")", args) {
				return
			}
		}
	}
}

// placeholders is n bound parameters, comma-separated, for an IN list.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

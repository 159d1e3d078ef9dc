package cleartext

import "strings"

// joinOr joins a list for a message, or returns the fallback when it is empty.
func joinOr(list []string, fallback string) string {
	if len(list) == 0 {
		return fallback
	}
	return strings.Join(list, ", ")
}

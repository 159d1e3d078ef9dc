package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"strconv"
)

// ruleTextHash is the key of a rule's text in rule_texts: the SHA-256 of the
// remediation and the references (as stored, JSON), length-prefixed so that no two
// pairs of texts read alike, cut to 128 bits in hex. It names the text, not the rule,
// so that equal texts are stored once and a changed text is another row.
func ruleTextHash(remediation, refs string) string {
	h := sha256.New()
	h.Write([]byte(strconv.Itoa(len(remediation)) + ":"))
	h.Write([]byte(remediation))
	h.Write([]byte(refs))
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// migrate0007 moves the remediation and references every finding row carried into
// rule_texts, once per distinct text, names it from the rows (text_hash), and drops the
// old columns. Hashing is what SQL cannot do portably. It reports a rewrite when rows
// were moved, so that the file is compacted and the space they held given back.
func migrate0007(ctx context.Context, tx *sql.Tx) (bool, error) {
	type text struct{ remediation, refs string }
	var texts []text
	rows, err := tx.QueryContext(ctx, `SELECT remediation, refs FROM findings
		UNION SELECT remediation, refs FROM scan_findings`)
	if err != nil {
		return false, fmt.Errorf("listing the rule texts: %w", err)
	}
	for rows.Next() {
		var t text
		if err := rows.Scan(&t.remediation, &t.refs); err != nil {
			rows.Close()
			return false, fmt.Errorf("listing the rule texts: %w", err)
		}
		texts = append(texts, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return false, fmt.Errorf("listing the rule texts: %w", err)
	}
	for _, t := range texts {
		hash := ruleTextHash(t.remediation, t.refs)
		if _, err := tx.ExecContext(ctx, "INSERT INTO rule_texts(hash, remediation, refs) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
			hash, t.remediation, t.refs); err != nil {
			return false, fmt.Errorf("storing a rule text: %w", err)
		}
		for _, table := range []string{"findings", "scan_findings"} {
			if _, err := tx.ExecContext(ctx, "UPDATE "+table+" SET text_hash = ? WHERE remediation = ? AND refs = ?",
				hash, t.remediation, t.refs); err != nil {
				return false, fmt.Errorf("naming the rule text of %s: %w", table, err)
			}
		}
	}
	for _, q := range []string{"ALTER TABLE findings DROP COLUMN remediation", "ALTER TABLE findings DROP COLUMN refs",
		"ALTER TABLE scan_findings DROP COLUMN remediation", "ALTER TABLE scan_findings DROP COLUMN refs"} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return false, fmt.Errorf("%s: %w", q, err)
		}
	}
	return len(texts) > 0, nil
}

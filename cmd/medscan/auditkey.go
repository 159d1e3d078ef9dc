package main

import (
	"fmt"
	"os"

	"github.com/spf13/pflag"

	"github.com/medscan/medscan/store"
)

// auditKeyFlag names the Ed25519 key of the audit trail (store/auditkey.go): the
// commands that write the store sign their record with its private half; audit --verify
// checks the signatures with either half. Without it the trail is the plain hash chain.
type auditKeyFlag struct{ file string }

func (k *auditKeyFlag) register(fs *pflag.FlagSet, verify bool) {
	usage := "Ed25519 private key `FILE` (PEM, openssl genpkey -algorithm ed25519) signing this run's audit record, so that " +
		"audit --verify with the key detects a chain rewritten by someone without it; never stored"
	if verify {
		usage = "with --verify, check the records' signatures against this Ed25519 key `FILE` (PEM: the public key is enough)"
	}
	fs.StringVar(&k.file, "audit-key-file", "", usage)
}

// load reads the key, nil when none was given. sign says the command writes records: a
// public key is then an error, said before any work.
func (k *auditKeyFlag) load(sign bool) (*store.AuditKey, error) {
	if k.file == "" {
		return nil, nil
	}
	b, err := os.ReadFile(k.file)
	if err != nil {
		return nil, fmt.Errorf("--audit-key-file: %w", err)
	}
	key, err := store.ParseAuditKey(k.file, b)
	clear(b)
	if err != nil {
		return nil, fmt.Errorf("--audit-key-file: %w", err)
	}
	if sign && !key.CanSign() {
		return nil, fmt.Errorf("--audit-key-file: %s: a public key: signing this run's audit record needs the private key", k.file)
	}
	return key, nil
}

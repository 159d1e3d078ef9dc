package main

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/medscan/medscan/fixtures/ward"
)

// wardMQTTHash scans the ward capture into db with env added and returns the keyed hash
// of the ward's MQTT password, as the JSON report gives it.
func wardMQTTHash(t *testing.T, dir, db string, env ...string) string {
	t.Helper()
	r := medscanEnv(t, dir, append([]string{"MEDSCAN_DB=", "NO_COLOR=1", "MEDSCAN_SECRET_KEY_FILE="}, env...), nil,
		"scan", "--pcap", wardCapture(t), "--db", db, "-f", "json")
	if r.code != 0 {
		t.Fatalf("scan into %s: exit %d: %s", db, r.code, r.stderr)
	}
	var rep jsonReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatal(err)
	}
	for _, c := range rep.Credentials {
		if c.Kind == "mqtt-password" {
			return c.Hash
		}
	}
	t.Fatalf("scan into %s: no mqtt-password credential", db)
	return ""
}

// hmacHash is observe.SecretHasher.Hash, recomputed here from its definition.
func hmacHash(key []byte, secret string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(secret))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// TestSecretKeyOutsideTheStore is issue 13's first item through the binary: the key of
// the credential hashes is created in the user's configuration directory, mode 0600,
// never written to the store; sensors sharing the key file hash alike, others not.
func TestSecretKeyOutsideTheStore(t *testing.T) {
	dir := t.TempDir()
	xdg := filepath.Join(dir, "xdg")
	hashA := wardMQTTHash(t, dir, "a.db", "XDG_CONFIG_HOME="+xdg)

	keyFile := filepath.Join(xdg, "medscan", "secret.key")
	fi, err := os.Stat(keyFile)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file %s: %v, %v; want mode 0600", keyFile, fi, err)
	}
	if di, err := os.Stat(filepath.Dir(keyFile)); err != nil || di.Mode().Perm() != 0o700 {
		t.Fatalf("key directory: %v, %v; want mode 0700", di, err)
	}
	key, err := os.ReadFile(keyFile)
	if err != nil || len(key) != 32 {
		t.Fatalf("key file: %d bytes, %v", len(key), err)
	}
	if hashA != hmacHash(key, ward.MQTTPassword) {
		t.Fatal("the stored hash was not made with the key file's key")
	}
	// With the store alone, no 32 bytes of it reproduce the stored hash.
	var all []byte
	for _, suffix := range []string{"", "-wal", "-shm"} {
		b, err := os.ReadFile(filepath.Join(dir, "a.db"+suffix))
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	if !bytes.Contains(all, []byte(hashA)) {
		t.Fatal("the store does not hold the hash: the test looks in the wrong place")
	}
	if bytes.Contains(all, key) {
		t.Fatal("the store holds the key")
	}
	for i := 0; i+32 <= len(all); i++ {
		if hmacHash(all[i:i+32], ward.MQTTPassword) == hashA {
			t.Fatalf("bytes %d..%d of the store reproduce the password's hash", i, i+32)
		}
	}

	// A second sensor with a copy of the key file: the same hash in another store.
	if hashB := wardMQTTHash(t, dir, "b.db", "XDG_CONFIG_HOME="+xdg); hashB != hashA {
		t.Fatalf("one key file, two stores: %s and %s", hashA, hashB)
	}
	// Another key file (MEDSCAN_SECRET_KEY_FILE): another hash.
	other := filepath.Join(dir, "site", "other.key")
	if hashC := wardMQTTHash(t, dir, "c.db", "XDG_CONFIG_HOME="+xdg, "MEDSCAN_SECRET_KEY_FILE="+other); hashC == hashA {
		t.Fatal("two key files gave the same hash")
	}
	if _, err := os.Stat(other); err != nil {
		t.Fatalf("MEDSCAN_SECRET_KEY_FILE was not created: %v", err)
	}

	// A key file others may read is refused, naming it, before anything is stored.
	loose := filepath.Join(dir, "loose.key")
	if err := os.WriteFile(loose, key, 0o644); err != nil {
		t.Fatal(err)
	}
	r := medscan(t, dir, nil, "scan", "--pcap", wardCapture(t), "--db", "d.db", "--secret-key-file", loose)
	if r.code != 1 || !strings.Contains(r.stderr, loose) || !strings.Contains(r.stderr, "chmod 600") ||
		strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
		t.Fatalf("loose key file: exit %d, %q; want exit 1 and one line naming the file", r.code, r.stderr)
	}

	// Commands that only read a store never create a key.
	xdg2 := filepath.Join(dir, "xdg2")
	for _, args := range [][]string{{"scans", "--db", "a.db"}, {"report", "--db", "a.db", "-f", "json"}} {
		if r := medscanEnv(t, dir, []string{"MEDSCAN_DB=", "XDG_CONFIG_HOME=" + xdg2}, nil, args...); r.code != 0 {
			t.Fatalf("%v: exit %d: %s", args, r.code, r.stderr)
		}
	}
	if _, err := os.Stat(xdg2); !os.IsNotExist(err) {
		t.Fatalf("a read-only command created %s (%v)", xdg2, err)
	}
}

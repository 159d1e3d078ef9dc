package tsharkdiff

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/medscan/medscan/internal/testproc"
)

// This file is the medscan side: the real binary, built once, run as users run it.

var (
	buildOnce sync.Once
	binDir    string
	binPath   string
	binErr    error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// medscanBinary builds ./cmd/medscan once per test process.
func medscanBinary(t *testing.T) string {
	t.Helper()
	root := testproc.RepoRoot(t)
	buildOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "medscan-tsharkdiff")
		if binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "medscan")
		if runtime.GOOS == "windows" {
			binPath += ".exe"
		}
		build := exec.Command("go", "build", "-o", binPath, "./cmd/medscan")
		build.Dir = root
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			binErr = &buildError{err: err, out: string(out)}
		}
	})
	if binErr != nil {
		t.Fatalf("building medscan: %v", binErr)
	}
	return binPath
}

type buildError struct {
	err error
	out string
}

func (e *buildError) Error() string { return e.err.Error() + "\n" + e.out }

// msReport is the part of medscan's JSON report the comparison reads.
type msReport struct {
	SchemaVersion int `json:"schema_version"`
	Scan          struct {
		Complete bool `json:"complete"`
		Problems []struct {
			Source  string `json:"source"`
			Offset  int64  `json:"offset"`
			Message string `json:"message"`
			Fatal   bool   `json:"fatal"`
		} `json:"problems"`
	} `json:"scan"`
	Findings     []msFinding `json:"findings"`
	Certificates []msCert    `json:"certificates"`
	TLSSessions  []msSession `json:"tls_sessions"`
	Flows        []struct {
		Client      string `json:"client"`
		Host        string `json:"host"`
		Port        int    `json:"port"`
		Connections int    `json:"connections"`
		Packets     uint64 `json:"packets"`
	} `json:"flows"`
	Credentials []msCredential `json:"credentials"`
	HTTP        []struct {
		Host          string   `json:"host"`
		Port          int      `json:"port"`
		AuthScheme    string   `json:"auth_scheme"`
		APIKeyHeaders []string `json:"api_key_headers"`
	} `json:"http"`
	MQTT []msMQTT `json:"mqtt"`
	// Assets and SensorPaths say where tunnelled traffic was seen (tunnel_test.go).
	Assets      []msAsset      `json:"assets"`
	SensorPaths []msSensorPath `json:"sensor_paths"`
}

// msAsset is one assets[] entry, as far as the tunnel cases read it.
type msAsset struct {
	IP      string   `json:"ip"`
	Roles   []string `json:"roles"`
	SeenVia []string `json:"seen_via"`
}

// msSensorPath is one sensor_paths[] entry.
type msSensorPath struct {
	Path    string `json:"path"`
	Encap   string `json:"encap"`
	Session int    `json:"session"`
	Packets int    `json:"packets"`
}

// msFinding is one findings[] entry.
type msFinding struct {
	Rule    string `json:"rule"`
	Host    string `json:"host"`
	Port    int    `json:"port"`
	Message string `json:"message"`
}

// msCert is one certificates[] entry.
type msCert struct {
	SHA256     string    `json:"sha256"`
	Subject    string    `json:"subject"`
	NotBefore  time.Time `json:"not_before"`
	NotAfter   time.Time `json:"not_after"`
	KeyType    string    `json:"key_type"`
	KeyBits    int       `json:"key_bits"`
	SigHash    string    `json:"signature_hash"`
	IsCA       bool      `json:"is_ca"`
	ParseError string    `json:"parse_error"`
}

// msCredential is one credentials[] entry (never the secret).
type msCredential struct {
	Host string `json:"host"`
	Port int    `json:"port"`
	Kind string `json:"kind"`
}

// msMQTT is one mqtt[] entry.
type msMQTT struct {
	Host        string `json:"host"`
	Port        int    `json:"port"`
	HasUsername bool   `json:"has_username"`
	HasPassword bool   `json:"has_password"`
}

// msSession is one tls_sessions[] entry.
type msSession struct {
	Client      string   `json:"client"`
	Host        string   `json:"host"`
	Port        int      `json:"port"`
	SNI         string   `json:"sni"`
	Version     string   `json:"version"`
	Cipher      string   `json:"cipher"`
	Resumed     bool     `json:"resumed"`
	CertRequest bool     `json:"cert_request"`
	Observable  bool     `json:"certs_observable"`
	ServerCerts []string `json:"server_certs"`
	ClientCerts []string `json:"client_certs"`
	DHBits      int      `json:"dh_bits"`
}

// runMedscan scans one capture into a fresh store and returns the JSON report. An
// incomplete scan (exit 1 with a report) is returned with its problems for the caller to
// judge: a capture given from outside may be truncated.
func runMedscan(t *testing.T, file string) msReport {
	t.Helper()
	return runMedscanIn(t, file, t.TempDir())
}

// runMedscanIn is runMedscan with the store (m.db and what SQLite writes beside it) in
// work, for a test that reads the store's files afterwards.
func runMedscanIn(t *testing.T, file, work string) msReport {
	t.Helper()
	bin := medscanBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "scan", "--pcap", file, "--format", "json", "--db", filepath.Join(work, "m.db"), "-q")
	cmd.Dir = work
	cmd.Env = append(os.Environ(), "MEDSCAN_DB=", "NO_COLOR=1")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if err != nil && out.Len() == 0 {
		t.Fatalf("medscan on %s: %v\n%s", file, err, errb.String())
	}
	var r msReport
	if jerr := json.Unmarshal(out.Bytes(), &r); jerr != nil {
		t.Fatalf("medscan on %s: report is not JSON (%v; exit %v)\n%.2000s\n%s", file, jerr, err, out.String(), errb.String())
	}
	if r.SchemaVersion != 1 {
		t.Fatalf("medscan on %s: schema_version = %d, want 1", file, r.SchemaVersion)
	}
	return r
}

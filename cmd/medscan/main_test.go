package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/medscan/medscan/internal/pgtest"
)

// binPath is the medscan binary built once for the CLI tests: they run what users run.
var binPath string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "medscan-cli")
	if err != nil {
		panic(err)
	}
	// No developer's ~/.config/medscan/config.yaml may change what the tests see.
	os.Setenv("XDG_CONFIG_HOME", filepath.Join(dir, "no-config"))
	binPath = filepath.Join(dir, "medscan")
	if runtime.GOOS == "windows" {
		binPath += ".exe"
	}
	build := exec.Command("go", "build", "-o", binPath, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		os.Stderr.Write(out)
		panic("building medscan: " + err.Error())
	}
	code := m.Run()
	pgtest.StopShared() // the PostgreSQL cluster of the store tests, when one was started
	os.RemoveAll(dir)
	os.Exit(code)
}

// result is one run of the binary.
type result struct {
	stdout, stderr string
	code           int
}

// medscan runs the binary in dir with args, feeding stdin when not nil.
func medscan(t *testing.T, dir string, stdin []byte, args ...string) result {
	t.Helper()
	return medscanEnv(t, dir, []string{"MEDSCAN_DB=", "NO_COLOR=1"}, stdin, args...)
}

// medscanEnv runs the binary in dir with env added to the test's environment.
func medscanEnv(t *testing.T, dir string, env []string, stdin []byte, args ...string) result {
	t.Helper()
	cmd := exec.Command(binPath, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running medscan %v: %v", args, err)
	}
	return result{out.String(), errb.String(), code}
}

// jsonReport is the part of the JSON report the CLI tests read.
type jsonReport struct {
	SchemaVersion int `json:"schema_version"`
	Scan          struct {
		ID       int64    `json:"id"`
		Complete bool     `json:"complete"`
		Sources  []string `json:"sources"`
		Problems []struct {
			Source  string `json:"source"`
			Offset  int64  `json:"offset"`
			Message string `json:"message"`
		} `json:"problems"`
		Counters []struct {
			Name  string `json:"name"`
			Value uint64 `json:"value"`
		} `json:"counters"`
	} `json:"scan"`
	Summary struct {
		Total int `json:"total"`
	} `json:"summary"`
	Findings []struct {
		Rule        string         `json:"rule"`
		Severity    string         `json:"severity"`
		Host        string         `json:"host"`
		Port        int            `json:"port"`
		Subject     string         `json:"subject"`
		Message     string         `json:"message"`
		Evidence    map[string]any `json:"evidence"`
		Fingerprint string         `json:"fingerprint"`
		Remediation string         `json:"remediation"`
		References  []string       `json:"references"`
		Source      string         `json:"source"`
	} `json:"findings"`
	Certificates []struct {
		SHA256       string `json:"sha256"`
		SPKISHA256   string `json:"spki_sha256"`
		Subject      string `json:"subject"`
		Issuer       string `json:"issuer"`
		NotBefore    string `json:"not_before"`
		NotAfter     string `json:"not_after"`
		ValidityDays int    `json:"validity_days"`
		KeyType      string `json:"key_type"`
		KeyBits      int    `json:"key_bits"`
		SigAlg       string `json:"signature_algorithm"`
		SigHash      string `json:"signature_hash"`
		IsCA         bool   `json:"is_ca"`
		SelfSigned   bool   `json:"self_signed"`
		SeenOn       []struct {
			Host string `json:"host"`
			Port int    `json:"port"`
			Role string `json:"role"`
		} `json:"seen_on"`
	} `json:"certificates"`
	Services []struct {
		Host       string `json:"host"`
		Port       int    `json:"port"`
		Protocol   string `json:"protocol"`
		TLSVersion string `json:"tls_version"`
		Cipher     string `json:"cipher"`
	} `json:"services"`
	TLSSessions []struct {
		Client      string   `json:"client"`
		Host        string   `json:"host"`
		Port        int      `json:"port"`
		SNI         string   `json:"sni"`
		Version     string   `json:"version"`
		Cipher      string   `json:"cipher"`
		CertRequest bool     `json:"cert_request"`
		Observable  bool     `json:"certs_observable"`
		ServerCerts []string `json:"server_certs"`
		ClientCerts []string `json:"client_certs"`
		DHBits      int      `json:"dh_bits"`
	} `json:"tls_sessions"`
	Assets []struct {
		IP  string `json:"ip"`
		MAC string `json:"mac"`
	} `json:"assets"`
	Credentials []struct {
		Host     string `json:"host"`
		Port     int    `json:"port"`
		Protocol string `json:"protocol"`
		Kind     string `json:"kind"`
		User     string `json:"user"`
		Preview  string `json:"preview"`
		Hash     string `json:"hash"`
	} `json:"credentials"`
	MQTT  []map[string]any `json:"mqtt"`
	HL7   []map[string]any `json:"hl7"`
	DICOM []map[string]any `json:"dicom"`
}

func parseReport(t *testing.T, s string) jsonReport {
	t.Helper()
	var r jsonReport
	if err := json.Unmarshal([]byte(s), &r); err != nil {
		t.Fatalf("report is not JSON: %v\n%.2000s", err, s)
	}
	if r.SchemaVersion != 1 {
		t.Fatalf("schema_version = %d, want 1", r.SchemaVersion)
	}
	return r
}

func (r jsonReport) hasFinding(rule, host string, port int) bool {
	for _, f := range r.Findings {
		if f.Rule == rule && f.Host == host && f.Port == port {
			return true
		}
	}
	return false
}

func (r jsonReport) rules() string {
	var b strings.Builder
	for _, f := range r.Findings {
		b.WriteString(f.Rule + " " + f.Host + ":" + strconv.Itoa(f.Port) + " [" + f.Severity + "] " + f.Message + "\n")
	}
	return b.String()
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/medscan/medscan/internal/testproc"
)

// The tests in this file hold the CLI to the habits of trivy, nmap and testssl.sh users
// (issue 12): help for every command, suggestions, completion, man pages, a
// configuration file and environment variables, -f/-o/-s/-q, and a reference that
// cannot drift.

var update = flag.Bool("update", false, "rewrite the golden files (help transcripts, docs/cli.md)")

// inProcess runs medscan's run() with args in dir and returns its outcome.
func inProcess(t *testing.T, dir string, args ...string) result {
	t.Helper()
	if dir != "" {
		t.Chdir(dir)
	}
	var out, errb bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(""), &out, &errb)
	return result{out.String(), errb.String(), code}
}

// commandNames are the commands whose help is kept as a golden transcript.
func commandNames() []string {
	var names []string
	for _, c := range newRoot(&app{}).Commands() {
		names = append(names, c.Name())
	}
	return names
}

// TestHelpGolden keeps the --help of every command as a transcript: a change of a
// flag or a text shows in review (update with -update).
func TestHelpGolden(t *testing.T) {
	cases := map[string][]string{"root": {"--help"}}
	for _, name := range commandNames() {
		cases[name] = []string{name, "--help"}
	}
	for name, args := range cases {
		res := inProcess(t, "", args...)
		if res.code != 0 || res.stderr != "" {
			t.Fatalf("%v: exit %d, stderr %q", args, res.code, res.stderr)
		}
		golden := filepath.Join("testdata", "help", name+".txt")
		if *update {
			os.MkdirAll(filepath.Dir(golden), 0o755)
			if err := os.WriteFile(golden, []byte(res.stdout), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%s (run go test -run TestHelpGolden -update): %v", golden, err)
		}
		if res.stdout != string(want) {
			t.Errorf("medscan %s differs from %s (run with -update and review the diff):\n%s", strings.Join(args, " "), golden, res.stdout)
		}
	}
}

// TestHelpCommand checks `medscan help CMD` (defect 7: it printed the top-level help).
func TestHelpCommand(t *testing.T) {
	for _, name := range []string{"scan", "lint", "diff"} {
		viaHelp := inProcess(t, "", "help", name)
		viaFlag := inProcess(t, "", name, "--help")
		if viaHelp.code != 0 || viaHelp.stdout != viaFlag.stdout {
			t.Errorf("help %s: exit %d, and it differs from %s --help", name, viaHelp.code, name)
		}
		if !strings.Contains(viaHelp.stdout, "medscan "+name) {
			t.Errorf("help %s does not describe %s:\n%s", name, name, viaHelp.stdout)
		}
	}
	// No command: the overview on stderr, exit 2, as for any usage error.
	res := inProcess(t, "")
	if res.code != exitUsage || !strings.Contains(res.stderr, "Available Commands") || res.stdout != "" {
		t.Errorf("no command: exit %d, stdout %q, stderr %q", res.code, res.stdout, res.stderr)
	}
}

// TestSuggestionsAndHints checks "did you mean" for commands and flags, and that a
// usage error points at the help of the command it concerns (defect 7).
func TestSuggestionsAndHints(t *testing.T) {
	cases := []struct {
		args []string
		want []string
	}{
		{[]string{"scna"}, []string{`unknown command "scna"`, "did you mean scan", "run 'medscan --help'"}},
		{[]string{"scan", "--pacp", "x.pcap"}, []string{"unknown flag: --pacp (did you mean --pcap?)", "run 'medscan scan --help'"}},
		{[]string{"report", "--fromat", "json"}, []string{"did you mean --format?", "run 'medscan report --help'"}},
		{[]string{"diff", "--fail-on", "severe"}, []string{"unknown severity", "run 'medscan diff --help'"}},
		{[]string{"inventory", "extra"}, []string{`inventory: unexpected argument "extra"`, "run 'medscan inventory --help'"}},
		{[]string{"version", "-f", "xml"}, []string{`unknown format "xml"`, "run 'medscan version --help'"}},
	}
	for _, c := range cases {
		res := inProcess(t, t.TempDir(), c.args...)
		if res.code != exitUsage {
			t.Errorf("%v: exit %d, want 2 (stderr %q)", c.args, res.code, res.stderr)
		}
		for _, w := range c.want {
			if !strings.Contains(res.stderr, w) {
				t.Errorf("%v: stderr lacks %q:\n%s", c.args, w, res.stderr)
			}
		}
		if n := strings.Count(strings.TrimSpace(res.stderr), "\n"); n != 1 {
			t.Errorf("%v: want an error line and a hint line, got:\n%s", c.args, res.stderr)
		}
	}
}

// TestCompletion checks that the completion script loads in bash and completes
// subcommands and --format values, through bash-completion as a user's shell does, and
// through cobra's __complete entry point.
func TestCompletion(t *testing.T) {
	res := medscan(t, t.TempDir(), nil, "__complete", "scan", "--format", "")
	for _, f := range []string{"table", "json", "html", "sarif", "csv"} {
		if !strings.Contains(res.stdout, f+"\n") {
			t.Errorf("__complete scan --format: %q missing:\n%s", f, res.stdout)
		}
	}
	res = medscan(t, t.TempDir(), nil, "__complete", "report", "--severity", "")
	if !strings.Contains(res.stdout, "critical\n") {
		t.Errorf("__complete report --severity: %s", res.stdout)
	}
	for _, shell := range []string{"bash", "zsh", "fish", "powershell"} {
		if res := medscan(t, t.TempDir(), nil, "completion", shell); res.code != 0 || len(res.stdout) < 500 {
			t.Errorf("completion %s: exit %d, %d bytes", shell, res.code, len(res.stdout))
		}
	}

	const bashCompletion = "/usr/share/bash-completion/bash_completion"
	bash, err := exec.LookPath("bash")
	if _, statErr := os.Stat(bashCompletion); err != nil || statErr != nil {
		if os.Getenv("MEDSCAN_REQUIRE_REALSOFT") == "1" {
			t.Fatalf("bash and %s are required (MEDSCAN_REQUIRE_REALSOFT=1): install bash-completion", bashCompletion)
		}
		t.Skip("bash-completion is not installed")
	}
	// The script calls the program by the name the user typed: medscan on the PATH.
	script := `source ` + bashCompletion + `
source <(medscan completion bash)
complete_line() { COMP_LINE="$1"; COMP_POINT=${#COMP_LINE}; read -ra COMP_WORDS <<<"$COMP_LINE"
  [[ "$COMP_LINE" == *" " ]] && COMP_WORDS+=("")
  COMP_CWORD=$((${#COMP_WORDS[@]}-1)); COMPREPLY=(); __start_medscan 2>/dev/null; echo "${COMPREPLY[*]}"; }
complete_line "medscan sc"
complete_line "medscan scan --format "
complete_line "medscan inventory --kind med"
`
	cmd := exec.Command(bash, "-c", script)
	cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(binPath)+string(os.PathListSeparator)+os.Getenv("PATH"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("bash: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	want := []string{"scan scans", "csv csv-assets defectdojo html json ocsf sarif svg table", "medical-device"}
	if len(lines) != len(want) {
		t.Fatalf("bash completion printed %q, want %q", lines, want)
	}
	for i := range want {
		if lines[i] != want[i] {
			t.Errorf("completion %d: got %q, want %q", i, lines[i], want[i])
		}
	}
}

// TestManPages checks that `medscan man DIR` writes a page per command.
func TestManPages(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "man1")
	res := medscan(t, t.TempDir(), nil, "man", dir)
	if res.code != 0 {
		t.Fatalf("man: exit %d: %s", res.code, res.stderr)
	}
	for _, page := range []string{"medscan.1", "medscan-scan.1", "medscan-lint.1", "medscan-diff.1", "medscan-completion-bash.1"} {
		data, err := os.ReadFile(filepath.Join(dir, page))
		if err != nil {
			t.Errorf("%s: %v", page, err)
			continue
		}
		if !bytes.Contains(data, []byte(`.TH "MEDSCAN"`)) {
			t.Errorf("%s is not a man page:\n%.200s", page, data)
		}
	}
	scanPage, _ := os.ReadFile(filepath.Join(dir, "medscan-scan.1"))
	if !bytes.Contains(scanPage, []byte("pcap")) {
		t.Error("medscan-scan.1 does not document --pcap")
	}
}

// TestVersion checks the version's text and JSON forms (defect 7: both printed only
// "medscan 0.1.0-dev"), and that a build from a checkout names its commit.
func TestVersion(t *testing.T) {
	res := medscan(t, t.TempDir(), nil, "version")
	if res.code != 0 || !strings.Contains(res.stdout, "medscan ") || !strings.Contains(res.stdout, "go1.") {
		t.Errorf("version: exit %d: %q", res.code, res.stdout)
	}
	if again := medscan(t, t.TempDir(), nil, "--version"); again.stdout != res.stdout {
		t.Errorf("--version %q differs from version %q", again.stdout, res.stdout)
	}
	res = medscan(t, t.TempDir(), nil, "version", "--format", "json")
	var info buildInfo
	if err := json.Unmarshal([]byte(res.stdout), &info); err != nil || info.GoVersion == "" || info.Version == "" || info.Platform == "" {
		t.Errorf("version --format json: %v: %q", err, res.stdout)
	}
	if help := medscan(t, t.TempDir(), nil, "version", "--help"); !strings.Contains(help.stdout, "--format") {
		t.Errorf("version --help does not describe its flags:\n%s", help.stdout)
	}

	// Built from a git checkout with VCS stamping on (-buildvcs=true overrides a
	// GOFLAGS that turns it off), the version names the commit.
	root := testproc.RepoRoot(t)
	head, err := exec.Command("git", "-C", root, "rev-parse", "HEAD").Output()
	if err != nil {
		t.Skipf("not a git checkout (%v): the commit stamp is not tested", err)
	}
	if fi, err := os.Stat(filepath.Join(root, ".git")); err != nil || !fi.IsDir() {
		// A linked work tree (.git is a file): the go command stamps no VCS data there.
		t.Skip("a linked git work tree: the go command does not stamp the commit; tested in a clone")
	}
	bin := filepath.Join(t.TempDir(), "medscan-vcs")
	build := exec.Command("go", "build", "-buildvcs=true", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build -buildvcs=true: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "version", "-f", "json").Output()
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(out, &info); err != nil {
		t.Fatal(err)
	}
	if info.Commit != strings.TrimSpace(string(head)) || info.Time == "" {
		t.Errorf("version of a checkout build: commit %q time %q, want commit %s", info.Commit, info.Time, head)
	}
}

// TestConfigAndEnvironment checks the order flag > environment > file > default, the
// file's places (working directory, XDG, --config), per-command sections, and that an
// unknown key is an error with the file and the line (defect 14).
func TestConfigAndEnvironment(t *testing.T) {
	dir := t.TempDir()
	format := func(res result) string {
		t.Helper()
		if res.code != 0 {
			t.Fatalf("exit %d: %s", res.code, res.stderr)
		}
		if strings.HasPrefix(res.stdout, "[") {
			return "json"
		}
		return "table"
	}
	run := func(env []string, args ...string) result {
		t.Helper()
		return medscanEnv(t, dir, env, nil, args...)
	}
	if got := format(run(nil, "rules")); got != "table" {
		t.Fatalf("default: %s", got)
	}
	writeFile(t, filepath.Join(dir, "medscan.yaml"), "# the team's defaults\nrules:\n  format: json\n")
	if got := format(run(nil, "rules")); got != "json" {
		t.Errorf("./medscan.yaml rules.format json: got %s", got)
	}
	if got := format(run([]string{"MEDSCAN_FORMAT=table"}, "rules")); got != "table" {
		t.Errorf("MEDSCAN_FORMAT=table over the file: got %s", got)
	}
	if got := format(run([]string{"MEDSCAN_FORMAT=table"}, "rules", "-f", "json")); got != "json" {
		t.Errorf("-f json over the environment: got %s", got)
	}
	// A top-level key applies to every command with the flag; a section wins over it.
	writeFile(t, filepath.Join(dir, "medscan.yaml"), "format: table\nrules:\n  format: json\n")
	if got := format(run(nil, "rules")); got != "json" {
		t.Errorf("section over top level: got %s", got)
	}
	// The user's configuration directory, when the working directory has none.
	os.Remove(filepath.Join(dir, "medscan.yaml"))
	xdg := t.TempDir()
	os.MkdirAll(filepath.Join(xdg, "medscan"), 0o755)
	writeFile(t, filepath.Join(xdg, "medscan", "config.yaml"), "format: json\n")
	if got := format(run([]string{"XDG_CONFIG_HOME=" + xdg}, "rules")); got != "json" {
		t.Errorf("$XDG_CONFIG_HOME/medscan/config.yaml: got %s", got)
	}
	// --config names the file.
	other := writeFile(t, filepath.Join(t.TempDir(), "nightly.yaml"), "rules:\n  format: json\n")
	if got := format(run(nil, "--config", other, "rules")); got != "json" {
		t.Errorf("--config: got %s", got)
	}

	// Errors: an unknown key, with its line and a suggestion; a bad value; a missing
	// --config file. All are usage errors and run nothing.
	writeFile(t, filepath.Join(dir, "medscan.yaml"), "db: x.db\n\nfial-on: high\n")
	res := run(nil, "rules")
	if res.code != exitUsage || !strings.Contains(res.stderr, `medscan.yaml:3: unknown key "fial-on"`) ||
		!strings.Contains(res.stderr, "did you mean fail-on?") {
		t.Errorf("unknown key: exit %d: %s", res.code, res.stderr)
	}
	writeFile(t, filepath.Join(dir, "medscan.yaml"), "scan:\n  pcpa: x\n")
	if res := run(nil, "rules"); res.code != exitUsage || !strings.Contains(res.stderr, `medscan.yaml:2: unknown key "scan.pcpa"`) {
		t.Errorf("unknown key in a section: exit %d: %s", res.code, res.stderr)
	}
	writeFile(t, filepath.Join(dir, "medscan.yaml"), "scan:\n  pause: soon\n")
	if res := run(nil, "scan", "--pcap", "x"); res.code != exitUsage || !strings.Contains(res.stderr, "medscan.yaml:2: pause: bad value \"soon\"") {
		t.Errorf("bad value: exit %d: %s", res.code, res.stderr)
	}
	os.Remove(filepath.Join(dir, "medscan.yaml"))
	if res := run([]string{"MEDSCAN_MAX_FAILURES=many"}, "scan", "--pcap", "x"); res.code != exitUsage ||
		!strings.Contains(res.stderr, "MEDSCAN_MAX_FAILURES: bad value") {
		t.Errorf("bad environment value: exit %d: %s", res.code, res.stderr)
	}
	if res := run(nil, "--config", filepath.Join(dir, "absent.yaml"), "rules"); res.code == 0 || !strings.Contains(res.stderr, "absent.yaml") {
		t.Errorf("missing --config file: exit %d: %s", res.code, res.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "medscan.db")); err == nil {
		t.Error("a configuration error created a store")
	}

	// A store, a label and a gate from the environment drive a real scan: a
	// scheduled job writes its choices once.
	res = run([]string{"MEDSCAN_DB=" + filepath.Join(dir, "env.db"), "MEDSCAN_LABEL=icu", "MEDSCAN_FAIL_ON=high", "MEDSCAN_QUIET=true"},
		"scan", "--pcap", wardCapture(t), "-o", filepath.Join(dir, "out.json"))
	if res.code != exitFindings || res.stderr == "" || strings.Contains(res.stderr, "stored in") {
		t.Errorf("scan from the environment: exit %d (want 3: high findings), stderr %q", res.code, res.stderr)
	}
	var rep jsonReport
	data, _ := os.ReadFile(filepath.Join(dir, "out.json"))
	if err := json.Unmarshal(data, &rep); err != nil || rep.Summary.Total == 0 {
		t.Errorf("-o out.json (format from the extension): %v", err)
	}
	if res := run(nil, "scans", "--db", filepath.Join(dir, "env.db"), "--label", "icu", "-f", "json"); !strings.Contains(res.stdout, `"label": "icu"`) {
		t.Errorf("MEDSCAN_LABEL was not applied: %s", res.stdout)
	}
}

// TestOutputFlags checks -o's format from the extension, that a bad -o is refused
// before any work (defect 8), -s filtering what is shown but neither what is stored nor
// what the gate counts, and -q on every command.
func TestOutputFlags(t *testing.T) {
	dir := t.TempDir()
	ward := wardCapture(t)
	db := filepath.Join(dir, "m.db")

	html := filepath.Join(dir, "ward.html")
	if res := medscan(t, dir, nil, "scan", "-q", "--db", db, "--pcap", ward, "-o", html); res.code != 0 {
		t.Fatalf("scan -o ward.html: exit %d: %s", res.code, res.stderr)
	}
	if data, _ := os.ReadFile(html); !bytes.HasPrefix(bytes.TrimSpace(data), []byte("<!DOCTYPE html>")) {
		t.Errorf("-o ward.html did not write HTML: %.80s", data)
	}
	for ext, prefix := range map[string]string{".sarif": `"$schema"`, ".csv": "severity", ".json": `"schema_version"`} {
		out := filepath.Join(dir, "r"+ext)
		if res := medscan(t, dir, nil, "report", "--db", db, "-o", out); res.code != 0 {
			t.Fatalf("report -o %s: %s", out, res.stderr)
		}
		if data, _ := os.ReadFile(out); !bytes.Contains(data[:min(len(data), 400)], []byte(prefix)) {
			t.Errorf("report -o r%s: want %s near the start: %.200s", ext, prefix, data)
		}
	}
	// -f wins over the extension.
	out := filepath.Join(dir, "forced.html")
	medscan(t, dir, nil, "report", "--db", db, "-f", "json", "-o", out)
	if data, _ := os.ReadFile(out); !bytes.HasPrefix(data, []byte("{")) {
		t.Errorf("-f json -o forced.html did not write JSON: %.40s", data)
	}

	// A bad -o is a usage error before anything is read or stored.
	os.Mkdir(filepath.Join(dir, "out"), 0o755)
	fresh := filepath.Join(dir, "fresh.db")
	for _, o := range []string{filepath.Join(dir, "out") + "/", filepath.Join(dir, "out"), filepath.Join(dir, "missing", "r.json")} {
		res := medscan(t, dir, nil, "scan", "--db", fresh, "--pcap", ward, "-o", o)
		if res.code != exitUsage || !strings.Contains(res.stderr, "-o "+o) {
			t.Errorf("scan -o %s: exit %d: %s", o, res.code, res.stderr)
		}
	}
	if _, err := os.Stat(fresh); err == nil {
		t.Error("a bad -o let the scan run and store")
	}

	// -s shows only the severities asked for; the store and the gate see everything.
	all := reportJSON(t, medscan(t, dir, nil, "report", "--db", db, "-f", "json"))
	res := medscan(t, dir, nil, "report", "--db", db, "-f", "json", "-s", "HIGH,critical", "--fail-on", "medium")
	if res.code != exitFindings {
		t.Errorf("-s high,critical --fail-on medium: exit %d, want 3 (the gate counts every finding)", res.code)
	}
	var shown struct {
		jsonReport
		SeverityFilter []string `json:"severity_filter"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &shown); err != nil {
		t.Fatal(err)
	}
	if len(shown.Findings) == 0 || len(shown.Findings) >= len(all.Findings) || shown.Summary.Total != len(shown.Findings) {
		t.Errorf("-s: %d of %d findings shown, summary %d", len(shown.Findings), len(all.Findings), shown.Summary.Total)
	}
	for _, f := range shown.Findings {
		if f.Severity != "high" && f.Severity != "critical" {
			t.Errorf("-s high,critical showed a %s finding", f.Severity)
		}
	}
	if strings.Join(shown.SeverityFilter, ",") != "high,critical" {
		t.Errorf("severity_filter = %v", shown.SeverityFilter)
	}
	if again := reportJSON(t, medscan(t, dir, nil, "report", "--db", db, "-f", "json")); len(again.Findings) != len(all.Findings) {
		t.Error("-s changed what is stored")
	}
	if table := medscan(t, dir, nil, "report", "--db", db, "-s", "high"); !strings.Contains(table.stdout, "Shown:    only high findings (-s)") ||
		strings.Contains(table.stdout, "| critical |") {
		t.Errorf("report -s high: the table does not say it was narrowed, or shows other severities:\n%s", table.stdout)
	}
	if res := medscan(t, dir, nil, "report", "--db", db, "-s", "severe"); res.code != exitUsage || !strings.Contains(res.stderr, "--severity") {
		t.Errorf("-s severe: exit %d: %s", res.code, res.stderr)
	}

	// -q is accepted everywhere and silences warnings.
	for _, args := range [][]string{{"report"}, {"scans"}, {"inventory"}, {"diff"}, {"rules"}, {"lint", "--scan", "latest"}} {
		full := append(append([]string{}, args...), "-q", "--db", db)
		if args[0] == "rules" {
			full = []string{"rules", "-q"}
		}
		if res := medscan(t, dir, nil, full...); res.code != 0 || res.stderr != "" {
			t.Errorf("%v: exit %d, stderr %q", full, res.code, res.stderr)
		}
	}
}

// reportJSON decodes a JSON report from a run.
func reportJSON(t *testing.T, res result) jsonReport {
	t.Helper()
	var r jsonReport
	if err := json.Unmarshal([]byte(res.stdout), &r); err != nil {
		t.Fatalf("exit %d: %v: %s", res.code, err, res.stderr)
	}
	return r
}

// TestCLIReference keeps docs/cli.md what the command definitions say (update with
// -update).
func TestCLIReference(t *testing.T) {
	got := cliReference(newRoot(&app{}))
	path := filepath.Join(testproc.RepoRoot(t), "docs", "cli.md")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(want) != got {
		t.Error("docs/cli.md is stale: run go test ./cmd/medscan -run TestCLIReference -update")
	}
	for _, must := range []string{"`MEDSCAN_FAIL_ON`", "`scan.pcap`", "`-f`, `--format`", "`-s`, `--severity`", "## medscan completion"} {
		if !strings.Contains(got, must) {
			t.Errorf("docs/cli.md lacks %s", must)
		}
	}
}

// TestREADMECommandsParse holds the README's examples to the command definitions: each
// `medscan …` line of its "Using it" block names a command and flags that exist, with
// values of the right type, so that the README cannot teach a flag medscan lacks.
// commandParses reports whether args (without the program name) name a command and
// give it flags it takes, as the CLI would parse them; nothing is run.
func commandParses(args []string) error {
	root := newRoot(&app{})
	c, rest, err := root.Find(nmapArgs(args))
	if err != nil || c == root {
		return fmt.Errorf("no such command (%v)", err)
	}
	return c.ParseFlags(rest)
}

func TestREADMECommandsParse(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(testproc.RepoRoot(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, using, _ := strings.Cut(string(data), "## Using it")
	using, _, _ = strings.Cut(using, "\n## ")
	n, inCode := 0, false
	for _, line := range strings.Split(using, "\n") {
		if strings.HasPrefix(line, "```") {
			inCode = !inCode
			continue
		}
		line = strings.TrimPrefix(strings.TrimSpace(line), "sudo ")
		if !inCode || !strings.HasPrefix(line, "medscan ") {
			continue
		}
		line, _, _ = strings.Cut(line, "#")
		line, _, _ = strings.Cut(line, "<")
		line, _, _ = strings.Cut(line, ">")
		line = strings.NewReplacer("[", "", "]", "").Replace(line)
		var args []string
		for _, f := range strings.Fields(line)[1:] {
			f, _, _ = strings.Cut(f, "|") // "json|csv": one of them
			args = append(args, f)
		}
		n++
		if err := commandParses(args); err != nil {
			t.Errorf("README: %q: %v", line, err)
		}
	}
	if n < 20 {
		t.Errorf("found %d medscan command lines in the README's \"Using it\"; the parsing of the section is broken", n)
	}
}

// TestTablesFitTheTerminal runs the table commands as a user at 80 and 160 columns
// (defects 5, 6 and 13): no line wider than the terminal, no text cut with "…",
// inventory names whole, suppressed findings counted and listed, the engine's
// counters only with -v, and ASCII borders everywhere.
func TestTablesFitTheTerminal(t *testing.T) {
	dir := t.TempDir()
	ward := wardCapture(t)
	for range 2 {
		if res := medscan(t, dir, nil, "scan", "-q", "--label", "ward", "--pcap", ward, "--db", "m.db", "-o", filepath.Join(dir, "x.json")); res.code != 0 {
			t.Fatalf("scan: %s", res.stderr)
		}
	}
	writeFile(t, filepath.Join(dir, ".medscanignore.yaml"), "- rule: cleartext-hl7\n  reason: the engine moves to TLS in the spring\n  expires: "+
		time.Now().AddDate(0, 2, 0).Format("2006-01-02")+"\n")
	for _, width := range []int{80, 160} {
		env := []string{"MEDSCAN_DB=m.db", "NO_COLOR=1", fmt.Sprintf("COLUMNS=%d", width)}
		outputs := map[string]string{}
		for _, args := range [][]string{{"report"}, {"diff", "1", "2"}, {"inventory"}, {"scans"}, {"rules"}} {
			res := medscanEnv(t, dir, env, nil, args...)
			if res.code != 0 {
				t.Fatalf("%v: exit %d: %s", args, res.code, res.stderr)
			}
			outputs[args[0]] = res.stdout
			for i, line := range strings.Split(res.stdout, "\n") {
				if n := utf8.RuneCountInString(line); n > width {
					t.Errorf("%v at %d columns: line %d is %d wide: %q", args, width, i+1, n, line)
				}
			}
			if strings.Contains(res.stdout, "…") {
				t.Errorf("%v at %d columns cuts text with …", args, width)
			}
			if strings.ContainsAny(res.stdout, "─│┌┐└┘├┤┬┴┼═║") {
				t.Errorf("%v at %d columns draws Unicode boxes; tables are ASCII", args, width)
			}
		}
		rep := outputs["report"]
		if !regexp.MustCompile(`\| 1 +\|\n`).MatchString(rep) || !strings.Contains(rep, "Suppressed (1)") ||
			!strings.Contains(rep, "the engine") {
			t.Errorf("at %d columns the report does not count and list the suppressed finding:\n%s", width, rep)
		}
		if strings.Contains(rep, "streams_tls") || strings.Contains(rep, "expectations") || !strings.Contains(rep, "with -v") {
			t.Errorf("at %d columns the report shows the engine's counters without -v", width)
		}
		if width == 160 && !strings.Contains(outputs["inventory"], "hl7-engine.hospital.example.org") {
			t.Errorf("inventory at 160 columns cuts a name:\n%s", outputs["inventory"])
		}
	}
	verbose := medscanEnv(t, dir, []string{"MEDSCAN_DB=m.db", "COLUMNS=100"}, nil, "report", "-v")
	if !strings.Contains(verbose.stdout, "| streams_tls ") || !strings.Contains(verbose.stdout, "| expectations ") {
		t.Errorf("report -v does not show the engine's counters:\n%s", verbose.stdout)
	}
}

package yamlshape

import (
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

type inner struct {
	Every time.Duration `yaml:"every"`
	On    bool          `yaml:"on"`
}

type common struct {
	Name string `yaml:"name"`
}

type config struct {
	common  `yaml:",inline"`
	Count   int               `yaml:"count"`
	Workers uint              `yaml:"workers"`
	Ratio   float64           `yaml:"ratio"`
	Tags    []string          `yaml:"tags"`
	Limits  map[string]int    `yaml:"limits"`
	Job     inner             `yaml:"job"`
	Jobs    []inner           `yaml:"jobs"`
	Free    yaml.Node         `yaml:"free"`
	Labels  map[string]string `yaml:"labels"`
	Hidden  int               `yaml:"-"`
	Default string
}

// TestCheck walks documents of every shape against a type: each mistake is told by
// line, key path, what was wanted and what was found, and what passes decodes.
func TestCheck(t *testing.T) {
	tests := []struct {
		name, doc, want string // want "" when the document fits
	}{
		{"fits", "name: a\ncount: 3\nworkers: 2\nratio: 0.5\ntags: [a, b]\nlimits: {x: 1}\njob: {every: 90s, on: true}\n" +
			"jobs:\n  - every: 1h\nfree: [anything, {at: all}]\nlabels: {a: 1}\ndefault: x\n", ""},
		{"nulls fit anything", "count:\ntags:\njob:\nlimits: ~\n", ""},
		{"empty document", "", ""},
		{"alias", "base: &b 3\ncount: *b\n", `line 1: unknown key "base" (want one of name, count,`},
		{"alias value", "tags: &t [a]\nlabels: {x: *t}\n", `line 1: labels.x: want a single value, got a list`},
		{"alias to itself", "tags: &a [*a]\n", `line 1: tags[0]: want a single value, got a list`},
		{"int", "count: lots\n", `line 1: count: want a whole number, got "lots"`},
		{"int fraction", "count: 2.5\n", `line 1: count: want a whole number, got "2.5"`},
		{"int quoted", "count: \"3\"\n", `line 1: count: want a whole number, got "3"`},
		{"uint negative", "workers: -1\n", `line 1: workers: want a whole number, 0 or more, got "-1"`},
		{"float", "ratio: half\n", `line 1: ratio: want a number, got "half"`},
		{"bool", "job:\n  on: sometimes\n", `line 2: job.on: want true or false, got "sometimes"`},
		{"duration", "job:\n  every: 5 minutes\n", `line 2: job.every: want a duration such as 90s, 15m or 12h, got "5 minutes"`},
		{"duration in a list", "jobs:\n  - every: 1h\n  - every: soon\n", `line 3: jobs[1].every: want a duration such as 90s, 15m or 12h, got "soon"`},
		{"list", "tags: a\n", `line 1: tags: want a list, got "a"`},
		{"list item", "tags:\n  - a\n  - [b]\n", `line 3: tags[1]: want a single value, got a list`},
		{"map", "limits: [1]\n", `line 1: limits: want a mapping of keys to values, got a list`},
		{"map value", "limits:\n  x: many\n", `line 2: limits.x: want a whole number, got "many"`},
		{"struct", "job: daily\n", `line 1: job: want a mapping of keys (every, on), got "daily"`},
		{"string given a mapping", "name: {first: a}\n", `line 1: name: want a single value, got a mapping`},
		{"unknown nested key, near", "job:\n  evry: 1h\n", `line 2: job: unknown key "evry" (did you mean every?)`},
		{"unknown key, prefix", "limit: {}\n", `line 1: unknown key "limit" (did you mean limits?)`},
		{"skipped field is unknown", "hidden: 1\n", `line 1: unknown key "hidden" (want one of name, count,`},
		{"long value cut, escapes shown", "count: \"\\e]0;" + strings.Repeat("x", 60) + "\"\n",
			`line 1: count: want a whole number, got "\x1b]0;` + strings.Repeat("x", 36) + `…"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var doc yaml.Node
			if err := yaml.Unmarshal([]byte(tc.doc), &doc); err != nil {
				t.Fatal(err)
			}
			var c config
			err := Check(&doc, &c)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if err := doc.Decode(&c); tc.doc != "" && err != nil {
					t.Fatalf("passed the check, yet yaml.v3 refuses it: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("error\n got %q\nwant %q", err.Error(), tc.want)
			}
			if strings.ContainsAny(err.Error(), "\n\x1b") {
				t.Errorf("not one clean line: %q", err)
			}
		})
	}
}

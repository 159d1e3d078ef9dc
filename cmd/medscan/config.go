package main

// This file gives every flag a default from the environment (MEDSCAN_<FLAG>) and from a
// configuration file, in trivy's order: a flag on the command line wins over the
// environment, which wins over the file, which wins over medscan's own default. A
// scheduled job then writes its choices once instead of repeating every flag.

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/medscan/medscan/internal/suggest"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"gopkg.in/yaml.v3"
)

// configFile is the configuration file's name in the working directory; in the user's
// configuration directory it is medscan/config.yaml.
const configFile = "medscan.yaml"

// envPrefix starts the name of every environment variable medscan reads for a flag.
const envPrefix = "MEDSCAN_"

// notConfigurable are the flags that make no sense as a default: asking for help, or
// naming the configuration file from within itself.
var notConfigurable = map[string]bool{"help": true, "config": true, "version": true}

// envName is the environment variable of a flag: --fail-on is MEDSCAN_FAIL_ON.
func envName(flag string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// config is a parsed configuration file: values for every command (top-level keys)
// and for one command (a key naming the command, holding flag names).
type config struct {
	path       string
	global     map[string]configValue
	perCommand map[string]map[string]configValue
}

// configValue is one key's value: a scalar, or a list for a repeatable flag; line is
// where it was written, for errors.
type configValue struct {
	values []string
	line   int
}

// findConfig finds the configuration file: --config (or MEDSCAN_CONFIG), else ./medscan.yaml, else
// $XDG_CONFIG_HOME/medscan/config.yaml (~/.config when unset). "" when there is none.
func (a *app) findConfig() (string, error) {
	if a.configPath == "" {
		a.configPath = os.Getenv(envPrefix + "CONFIG")
	}
	if a.configPath != "" {
		if _, err := os.Stat(a.configPath); err != nil {
			return "", fmt.Errorf("--config %s: %w", a.configPath, errors.Unwrap(err))
		}
		return a.configPath, nil
	}
	candidates := []string{configFile}
	dir := os.Getenv("XDG_CONFIG_HOME")
	if dir == "" {
		if home, err := os.UserHomeDir(); err == nil {
			dir = filepath.Join(home, ".config")
		}
	}
	if dir != "" {
		candidates = append(candidates, filepath.Join(dir, "medscan", "config.yaml"))
	}
	for _, p := range candidates {
		// A place this user cannot look into (another user's home, inherited through
		// sudo or su) holds no configuration for this user.
		if _, err := os.Stat(p); err == nil {
			return p, nil
		} else if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, fs.ErrPermission) {
			return "", fmt.Errorf("%s: %w", p, errors.Unwrap(err))
		}
	}
	return "", nil
}

// loadConfig reads and checks a configuration file against the command tree: every key
// must be a flag of some command, or a command holding flags of its own. Errors name
// the file and the line.
func loadConfig(path string, root *cobra.Command) (*config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	cfg := &config{path: path, global: map[string]configValue{}, perCommand: map[string]map[string]configValue{}}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %s", path, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if len(doc.Content) == 0 {
		return cfg, nil // an empty file sets nothing
	}
	top := doc.Content[0]
	if top.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s:%d: want a mapping of flag names to values", path, top.Line)
	}
	commands := map[string]*cobra.Command{}
	for _, c := range root.Commands() {
		commands[c.Name()] = c
	}
	allFlags := flagNames(root)
	for i := 0; i+1 < len(top.Content); i += 2 {
		key, val := top.Content[i], top.Content[i+1]
		if c, ok := commands[key.Value]; ok && val.Kind == yaml.MappingNode {
			own := flagNames(c)
			section := map[string]configValue{}
			for j := 0; j+1 < len(val.Content); j += 2 {
				k, v := val.Content[j], val.Content[j+1]
				if !own[k.Value] {
					return nil, unknownKey(path, k, key.Value+".", own)
				}
				cv, err := configValueOf(path, key.Value+"."+k.Value, v)
				if err != nil {
					return nil, err
				}
				section[k.Value] = cv
			}
			cfg.perCommand[key.Value] = section
			continue
		}
		if !allFlags[key.Value] {
			return nil, unknownKey(path, key, "", allFlags)
		}
		cv, err := configValueOf(path, key.Value, val)
		if err != nil {
			return nil, err
		}
		cfg.global[key.Value] = cv
	}
	return cfg, nil
}

// unknownKey is the error for a key that is no flag, with the nearest flag suggested.
func unknownKey(path string, key *yaml.Node, prefix string, known map[string]bool) error {
	names := make([]string, 0, len(known))
	for n := range known {
		names = append(names, n)
	}
	msg := fmt.Sprintf("%s:%d: unknown key %q: not a flag of medscan", path, key.Line, prefix+key.Value)
	if prefix != "" {
		msg = fmt.Sprintf("%s:%d: unknown key %q: not a flag of medscan %s", path, key.Line, prefix+key.Value,
			strings.TrimSuffix(prefix, "."))
	}
	sort.Strings(names)
	if best := suggest.Closest(key.Value, names); best != "" {
		msg += fmt.Sprintf(" (did you mean %s%s?)", prefix, best)
	}
	return errors.New(msg)
}

// configValueOf reads a scalar, or a list of scalars for a repeatable flag.
func configValueOf(path, key string, v *yaml.Node) (configValue, error) {
	switch v.Kind {
	case yaml.ScalarNode:
		return configValue{values: []string{v.Value}, line: v.Line}, nil
	case yaml.SequenceNode:
		cv := configValue{line: v.Line}
		for _, item := range v.Content {
			if item.Kind != yaml.ScalarNode {
				return cv, fmt.Errorf("%s:%d: %s: want a list of plain values", path, item.Line, key)
			}
			cv.values = append(cv.values, item.Value)
		}
		return cv, nil
	}
	return configValue{}, fmt.Errorf("%s:%d: %s: want a value or a list of values, not a mapping", path, v.Line, key)
}

// flagNames are the configurable flags of c and, for the root, of every command under it.
func flagNames(c *cobra.Command) map[string]bool {
	out := map[string]bool{}
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		add := func(f *pflag.Flag) {
			if !notConfigurable[f.Name] {
				out[f.Name] = true
			}
		}
		c.Flags().VisitAll(add)
		c.PersistentFlags().VisitAll(add)
		if !c.HasParent() {
			for _, sub := range c.Commands() {
				walk(sub)
			}
		}
	}
	walk(c)
	return out
}

// lookup is the configured value of flag for command, the command's own section first.
func (c *config) lookup(command, flag string) (configValue, bool) {
	if c == nil {
		return configValue{}, false
	}
	if v, ok := c.perCommand[command][flag]; ok {
		return v, true
	}
	v, ok := c.global[flag]
	return v, ok
}

// applyDefaults sets, before c runs, every flag the user did not type from its
// environment variable, else from the configuration file. The flags stay "unchanged"
// to pflag (a configured --duration does not turn every scan into a live capture; a
// configured --format does not outrank -o's extension).
func (a *app) applyDefaults(c *cobra.Command) error {
	switch c.Name() {
	case "completion", cobra.ShellCompRequestCmd, cobra.ShellCompNoDescRequestCmd, "help", "version":
		return nil // completing, asking for help or the version must work whatever the file says
	}
	// A bad configuration is a bad flag written down: a usage error.
	path, err := a.findConfig()
	if err != nil {
		return usageError{msg: err.Error()}
	}
	var cfg *config
	if path != "" {
		if cfg, err = loadConfig(path, c.Root()); err != nil {
			return usageError{msg: err.Error()}
		}
	}
	var problems []string
	fs := c.Flags()
	names := []string{}
	fs.VisitAll(func(f *pflag.Flag) { names = append(names, f.Name) })
	sort.Strings(names)
	for _, name := range names {
		f := fs.Lookup(name)
		if f.Changed || notConfigurable[name] {
			continue
		}
		if env, ok := os.LookupEnv(envName(name)); ok && env != "" {
			if err := setDefault(f, splitEnv(f, env)); err != nil {
				problems = append(problems, fmt.Sprintf("%s: %v", envName(name), err))
			}
			continue
		}
		if v, ok := cfg.lookup(c.Name(), name); ok {
			if err := setDefault(f, v.values); err != nil {
				problems = append(problems, fmt.Sprintf("%s:%d: %s: %v", cfg.path, v.line, name, err))
			}
		}
	}
	if len(problems) > 0 {
		return usageError{msg: strings.Join(problems, "; ")}
	}
	return nil
}

// splitEnv reads an environment variable's value: a repeatable flag takes a
// comma-separated list, as it does on the command line.
func splitEnv(f *pflag.Flag, v string) []string {
	if _, ok := f.Value.(pflag.SliceValue); ok && strings.HasSuffix(f.Value.Type(), "Array") {
		return strings.Split(v, ",")
	}
	return []string{v}
}

// setDefault gives f the values, without marking it as typed on the command line.
func setDefault(f *pflag.Flag, values []string) error {
	if sv, ok := f.Value.(pflag.SliceValue); ok {
		return sv.Replace(values)
	}
	if len(values) != 1 {
		return fmt.Errorf("takes one value, got a list of %d", len(values))
	}
	if err := f.Value.Set(values[0]); err != nil {
		return fmt.Errorf("bad value %q: %v", values[0], err)
	}
	return nil
}

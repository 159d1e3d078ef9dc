package rules

import (
	"fmt"
	"path/filepath"

	"gopkg.in/yaml.v3"

	"github.com/medscan/medscan/codesign"
)

// rawCodeSigning is the policy's code_signing section as written:
//
//	code_signing:
//	  anchors: [root.pem, vendor.asc]     # certificates (PEM/DER) or OpenPGP keys, for every image
//	  must_sign: ["*"]                    # image name patterns that must be signed (default: all)
//	  vendors:                            # per vendor or update server, checked in order
//	    - name: acme
//	      servers: [10.20.0.5, updates.acme.example:80]
//	      images: ["acme-*.bin"]
//	      anchors: [acme-root.pem]
//	      must_sign: ["*.bin"]
//
// Paths are relative to the policy file.
type rawCodeSigning struct {
	Anchors  []string    `yaml:"anchors"`
	MustSign []string    `yaml:"must_sign"`
	Vendors  []rawVendor `yaml:"vendors"`
}

type rawVendor struct {
	Name     string    `yaml:"name"`
	Servers  []string  `yaml:"servers"`
	Images   []string  `yaml:"images"`
	Anchors  []string  `yaml:"anchors"`
	MustSign *[]string `yaml:"must_sign"`
}

// maxAnchorFile bounds one code-signing anchor file (a bundle of roots or a keyring).
const maxAnchorFile = 4 << 20

// codeSigning turns the raw section into a codesign.Policy, reading the anchor files;
// errors name the policy file and the line.
func codeSigning(name string, doc *yaml.Node, raw rawCodeSigning) (*codesign.Policy, error) {
	fail := func(line int, format string, args ...any) error {
		return fmt.Errorf("rules: %s: line %d: code_signing: %s", name, line, fmt.Sprintf(format, args...))
	}
	// lines gives the line of item i of a list; vendor entries' own lists are reported
	// at the vendor's line.
	at := func(path ...string) func(int) int {
		return func(i int) int { return lineOfItem(doc, i, path...) }
	}
	fixed := func(line int) func(int) int { return func(int) int { return line } }
	load := func(files []string, line func(int) int) (*codesign.Anchors, error) {
		if len(files) == 0 {
			return nil, nil
		}
		a := &codesign.Anchors{}
		for i, f := range files {
			p := f
			if !filepath.IsAbs(p) {
				p = filepath.Join(filepath.Dir(name), p)
			}
			data, err := readBounded(p, maxAnchorFile)
			if err == nil {
				err = a.AddFile(f, data)
			} else {
				err = fmt.Errorf("%s: %v", f, err)
			}
			if err != nil {
				return nil, fail(line(i), "anchors: %v", err)
			}
		}
		return a, nil
	}
	checkPatterns := func(ps []string, key string, line func(int) int) error {
		for i, p := range ps {
			if err := codesign.ValidPattern(p); err != nil || p == "" {
				return fail(line(i), "%s: bad name pattern %q", key, p)
			}
		}
		return nil
	}
	pol := &codesign.Policy{MustSign: raw.MustSign}
	var err error
	if pol.Anchors, err = load(raw.Anchors, at("code_signing", "anchors")); err != nil {
		return nil, err
	}
	if err := checkPatterns(raw.MustSign, "must_sign", at("code_signing", "must_sign")); err != nil {
		return nil, err
	}
	for i, v := range raw.Vendors {
		line := lineOfItem(doc, i, "code_signing", "vendors")
		if v.Name == "" {
			return nil, fail(line, "vendors: entry %d has no name", i+1)
		}
		if len(v.Servers) == 0 && len(v.Images) == 0 {
			return nil, fail(line, "vendors: %s: name servers or images (or both), or it would match every image", v.Name)
		}
		if len(v.Anchors) == 0 {
			return nil, fail(line, "vendors: %s: no anchors (its images would be judged against nothing)", v.Name)
		}
		vend := codesign.Vendor{Name: v.Name, Servers: v.Servers, Images: v.Images}
		if err := checkPatterns(v.Images, "images", fixed(line)); err != nil {
			return nil, err
		}
		if vend.Anchors, err = load(v.Anchors, fixed(line)); err != nil {
			return nil, err
		}
		if v.MustSign != nil {
			vend.MustSign = append([]string{}, *v.MustSign...)
			if err := checkPatterns(vend.MustSign, "must_sign", fixed(line)); err != nil {
				return nil, err
			}
		}
		pol.Vendors = append(pol.Vendors, vend)
	}
	return pol, nil
}

package codesign

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// fitITS is an image tree source with a kernel and a device tree, hashed, and a signed
// configuration; %s are the key's name hint and the signature algorithm.
const fitITS = `/dts-v1/;
/ {
	description = "pump firmware";
	#address-cells = <1>;
	images {
		kernel-1 {
			description = "kernel";
			data = /incbin/("kernel.bin");
			type = "kernel";
			arch = "arm";
			os = "linux";
			compression = "none";
			load = <0x80000>;
			entry = <0x80000>;
			hash-1 { algo = "sha256"; };
		};
		fdt-1 {
			description = "device tree";
			data = /incbin/("board.dtb");
			type = "flat_dt";
			arch = "arm";
			compression = "none";
			hash-1 { algo = "sha1"; };
		};
	};
	configurations {
		default = "conf-1";
		conf-1 {
			kernel = "kernel-1";
			fdt = "fdt-1";
%s
		};
	};
};
`

const fitSigNode = `			signature-1 {
				algo = "%s";
				key-name-hint = "%s";
				sign-images = "fdt", "kernel";%s
			};`

// TestFITReal signs FIT images with mkimage -k (keys made by openssl in a temporary key
// folder, the public key written into a control DTB by -K) and checks a good image, one
// whose kernel changed after signing, one whose signed header changed, an unsigned one,
// one signed by another key, a SHA-1/RSA-1024 one, an RSA-PSS one, and one with external
// data (-E);
// with the control DTB, the PEM public key and the certificate as anchors.
func TestFITReal(t *testing.T) {
	needTools(t, "mkimage", "dtc", "openssl")
	d := t.TempDir()
	keys := filepath.Join(d, "keys")
	os.Mkdir(keys, 0o700)
	newKey := func(name, bits string) {
		run(t, keys, nil, "openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:"+bits, "-out", name+".key")
		run(t, keys, nil, "openssl", "req", "-batch", "-new", "-x509", "-key", name+".key", "-subj", "/CN=FIT "+name,
			"-days", "365", "-out", name+".crt")
		run(t, keys, nil, "openssl", "pkey", "-in", name+".key", "-pubout", "-out", name+".pub.pem")
	}
	newKey("dev", "2048")
	newKey("other", "2048")
	newKey("weak", "1024")
	write(t, filepath.Join(d, "kernel.bin"), image(300_000, 1))
	write(t, filepath.Join(d, "board.dtb"), image(3000, 2))
	write(t, filepath.Join(d, "ctl.dts"), []byte("/dts-v1/;\n/ { };\n"))
	run(t, d, nil, "dtc", "-q", "-O", "dtb", "-o", "control.dtb", "ctl.dts")
	run(t, d, nil, "dtc", "-q", "-O", "dtb", "-o", "other-control.dtb", "ctl.dts")
	out := filepath.Join(d, "out")
	os.Mkdir(out, 0o755)
	mk := func(name, hint, algo, control string, extra ...string) []byte {
		sig, padding := "", ""
		if len(extra) > 0 && extra[0] == "pss" {
			padding, extra = "\n\t\t\t\tpadding = \"pss\";", extra[1:]
		}
		if hint != "" {
			sig = fmt.Sprintf(fitSigNode, algo, hint, padding)
		}
		write(t, filepath.Join(d, name+".its"), []byte(fmt.Sprintf(fitITS, sig)))
		args := append([]string{"-f", name + ".its"}, extra...)
		if hint != "" {
			args = append(args, "-k", keys, "-K", control, "-r")
		}
		run(t, d, nil, "mkimage", append(args, filepath.Join(out, name))...)
		return mustRead(t, filepath.Join(out, name))
	}
	good := mk("pump-2.1.0.itb", "dev", "sha256,rsa2048", "control.dtb")
	mk("external-2.1.0.itb", "dev", "sha256,rsa2048", "control.dtb", "-E")
	mk("pss-2.1.0.itb", "dev", "sha256,rsa2048", "control.dtb", "pss")
	mk("unsigned-2.1.0.itb", "", "", "")
	mk("otherkey-2.1.0.itb", "other", "sha256,rsa2048", "other-control.dtb")
	// mkimage knows no "rsa1024" algorithm, but signs "rsa2048" with whatever key it is given.
	mk("weak-2.1.0.itb", "weak", "sha1,rsa2048", "control.dtb")

	// The kernel's bytes change after signing: the configuration signature still
	// verifies (the data is not in its regions), the kernel's hash does not.
	k := image(300_000, 1)
	at := bytes.Index(good, k[:64])
	if at < 0 {
		t.Fatal("kernel data not found in the FIT")
	}
	tk := bytes.Clone(good)
	tk[at+1000] ^= 0x01
	write(t, filepath.Join(out, "tampered-kernel-2.1.0.itb"), tk)
	// A signed property (the description) changes: the signature fails.
	th := bytes.Clone(good)
	i := bytes.Index(th, []byte("pump firmware"))
	if i < 0 {
		t.Fatal("description not found in the FIT")
	}
	th[i] = 'P'
	write(t, filepath.Join(out, "tampered-header-2.1.0.itb"), th)

	for _, anchor := range []string{filepath.Join(d, "control.dtb"), filepath.Join(keys, "dev.pub.pem"), filepath.Join(keys, "dev.crt")} {
		t.Run(filepath.Base(anchor), func(t *testing.T) {
			a := anchorsFrom(t, anchor)
			// The weak key's public key is in control.dtb; as a PEM key or a certificate it
			// is an anchor of its own.
			switch filepath.Base(anchor) {
			case "dev.pub.pem":
				a = anchorsFrom(t, anchor, filepath.Join(keys, "weak.pub.pem"))
			case "dev.crt":
				a = anchorsFrom(t, anchor, filepath.Join(keys, "weak.crt"))
			}
			imgs := examineDir(t, out, &Policy{Anchors: a})
			check(t, imgs, "pump-2.1.0.itb", want{verdict: VerdictVerified, kind: "fit", trust: TrustTrusted, signer: "dev",
				notWeak: []string{"digest-sha1", "rsa-below-2048"}})
			check(t, imgs, "external-2.1.0.itb", want{verdict: VerdictVerified, kind: "fit", trust: TrustTrusted})
			check(t, imgs, "pss-2.1.0.itb", want{verdict: VerdictVerified, kind: "fit", trust: TrustTrusted})
			check(t, imgs, "unsigned-2.1.0.itb", want{verdict: VerdictUnsigned})
			check(t, imgs, "otherkey-2.1.0.itb", want{verdict: VerdictUnknown, kind: "fit", trust: TrustUntrusted, signer: "other",
				reason: "not among the policy's anchors"})
			check(t, imgs, "weak-2.1.0.itb", want{verdict: VerdictVerified, kind: "fit", trust: TrustTrusted,
				weak: []string{"digest-sha1", "rsa-below-2048"}})
			check(t, imgs, "tampered-kernel-2.1.0.itb", want{verdict: VerdictInvalid, kind: "fit", reason: "image kernel-1: its data does not match its sha256 hash"})
			check(t, imgs, "tampered-header-2.1.0.itb", want{verdict: VerdictInvalid, kind: "fit", reason: "digest mismatch"})
			if f := imgs["pump-2.1.0.itb"].Format; f != "fit" {
				t.Errorf("format %q, want fit", f)
			}
		})
	}
	// Without anchors the signature cannot be checked (the key is in U-Boot, not in the
	// image), but a payload that does not match its hash is still tampering.
	imgs := examineDir(t, out, &Policy{})
	check(t, imgs, "pump-2.1.0.itb", want{verdict: VerdictUnknown, kind: "fit", trust: TrustNotJudged, signer: "dev", reason: "no key to check it with"})
	check(t, imgs, "tampered-kernel-2.1.0.itb", want{verdict: VerdictInvalid, kind: "fit"})
}

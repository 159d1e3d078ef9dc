// Package codesign judges whether update images are authentic: it pairs each image with
// the signatures and signed checksum manifests beside it, verifies them with real
// libraries (crypto/x509 and a CMS parser for CMS/PKCS #7, Authenticode and JAR/APK v1,
// debug/pe for the Authenticode image hash, ProtonMail/go-crypto for OpenPGP, archive/zip
// for APK and JAR), says who signed, whether that signer chains to the policy's anchors,
// and what is weak about it. Update containers that carry their own signature are opened
// too: Authenticode in PE files, RAUC bundles, U-Boot FIT images (a bounded device-tree
// parser of its own, fdt.go), APKs (signature schemes v2 and v3), SWUpdate images (a newc
// cpio read by a streaming reader of its own; sw-description and its libconfig or JSON
// syntax; every listed artifact's sha256) and Mender artifacts (archive/tar and
// compress/gzip; the manifest and every member's sha256). Mender, SWUpdate's raw RSA
// mode and FIT sign with a bare key, which the signature does not name: the policy's PEM
// public keys or U-Boot control DTBs (Anchors.PublicKeys) check them, and the key that
// does is the signer.
//
// It is a package of its own, apart from capture and lint, because it judges files
// whatever carried them: the capture side hands it images it kept while they crossed the
// wire (HTTP, FTP, TFTP), and medscan verify hands it the files a vendor delivered. Both
// get the same facts (observe.UpdateImage), which the rules in rules/coderules judge.
//
// Invariants:
//
//   - Bounded memory. Images are read through File.Open and hashed as streams, never held
//     whole; signature files are read up to MaxSignatureSize and manifests up to
//     MaxManifestSize (beyond them the signature is "not checked", with the reason). A
//     FIT's device tree is walked through an io.ReaderAt: property values above 64 KiB
//     (the payloads) are hashed in place, never read whole. An APK's signing block is
//     read up to MaxManifestSize, a zip's directory up to 100,000 entries.
//   - Bounded structure: archive readers refuse more members than maxCpioMembers or
//     maxTarMembers, and a Mender payload stops decompressing at its budget
//     (inflationBudget), so neither a forged header nor a decompression bomb costs more
//     than a bounded read.
//   - A raw name (File.RawName, an image kept off the wire named by its path template)
//     is used only to match the policy's image patterns; it is never copied into an
//     Image, a reason or an error.
//   - A cut image (File.Cut: truncated at the capture's size limit) is never reported as
//     tampered: its signatures are not checked and its verdict is "unknown".
//   - Pairing happens within one Origin and Dir: a signature for "pump.bin" on another
//     server, or in another directory, is not this image's.
//   - No clock: times come from the signatures (signing time, countersigned timestamp)
//     and from the caller (Options.Time), so the same files give the same facts.
//   - Facts, not judgement: severity is for the rules; Weaknesses are stable tags.
package codesign

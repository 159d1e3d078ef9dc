// Package updatekeep keeps the bytes of update images, and of the signatures and checksum
// manifests fetched beside them, while they cross the wire, so that package codesign can
// judge them at the end of the scan: is the image signed, does the signature verify, and
// by whom. cleartext-update only needs an image's size and SHA-256; a signature check
// needs the bytes themselves.
//
// The HTTP, FTP and TFTP dissectors hand a Keeper the exact bytes they hash for an image
// (an HTTP body after chunked framing is removed; FTP and TFTP data in order, repeats
// dropped), through one Body per transfer, and the files whose names mark them as
// companions (Companion: the image's name plus .sig, .asc, .p7s, .cms, .gpg or .sha256,
// and SHA256SUMS-style manifests with their signatures). A body whose bytes went missing
// (a gap in the capture, a TFTP block lost, a 206 fragment) is not kept: a signature
// over an image with a hole would be judged on bytes nobody served.
//
// Memory and disk are bounded. A body is held in memory, in chunks that grow with it
// (chunks.go: no byte copied again as it grows), up to Options.MemPerFile (and
// while all bodies together stay under Options.MaxMem), then spilled to a file made
// with os.CreateTemp (mode 0600) in a directory of its own made with os.MkdirTemp (mode
// 0700), which Close removes; the scan closes the Keeper when it ends, interrupted or
// not. An image is kept up to Options.MaxImage bytes (--max-update-size), a companion up
// to Options.MaxCompanion: past that the body is cut (Cut), the rest still hashed, so
// that the SHA-256 stays the one of the whole transfer. All kept bytes together stay
// under Options.MaxTotal and at most Options.MaxFiles bodies are kept. Everything not
// kept is counted (Counters): nothing is dropped silently.
//
// Raw URL paths and file names stay inside the Keeper: it pairs images with their
// companions by them, then names every file it hands on by its path template
// (observe.PathTemplate), since identifiers in paths are patient data. Two images whose
// names share a template are told apart by a "~2" suffix (one name per raw file name
// for the whole scan, whatever server served it), and a
// companion is named after its image, so that pairing by name still works downstream.
package updatekeep

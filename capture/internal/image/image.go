// Package image decides whether bytes on the wire are a firmware or software image, and
// of which kind: by the name's extension, by the media type, or by the magic number of
// the first SniffLen bytes. HTTP, FTP and TFTP dissectors share it so that one image is
// called the same whatever carried it (cleartext-update compares them).
package image

import (
	"bytes"
	"encoding/binary"
	"strings"
)

// SniffLen is how many leading body bytes of a 2xx response are examined for an image's
// magic number: enough for tar's "ustar" at offset 257 and for the PE signature of most
// Windows executables, whose e_lfanew is below 0x1f0.
const SniffLen = 512

// imageExts are the request path extensions that mark a response as a firmware or software
// image whatever its content: raw and vendor firmware (.bin .img .fw .hex .elf .swu .upd
// .uimage), Windows software (.exe .msi .dll), archives (.zip .tar .tgz .gz) and packages
// (.deb .rpm .apk .pkg).
var imageExts = [...]string{".bin", ".img", ".fw", ".hex", ".elf", ".exe", ".msi", ".dll", ".zip", ".tar",
	".tgz", ".gz", ".deb", ".rpm", ".apk", ".pkg", ".swu", ".upd", ".uimage"}

// imageTypes are the response media types that mark a response as an image: generic binary,
// executables, archives and packages. Parameters (";charset=...") are ignored.
var imageTypes = [...]string{
	"application/octet-stream", "application/x-msdownload", "application/x-msdos-program",
	"application/x-executable", "application/x-elf", "application/x-sharedlib", "application/x-msi",
	"application/zip", "application/x-zip-compressed", "application/gzip", "application/x-gzip",
	"application/x-tar", "application/x-gtar", "application/vnd.android.package-archive",
	"application/vnd.debian.binary-package", "application/x-debian-package", "application/x-rpm",
	"application/x-redhat-package-manager",
}

// PathKind returns "ext:<extension>" when the path's last segment ends in an image extension.
func PathKind(path string) string {
	dot := -1
	for i := len(path) - 1; i >= 0 && path[i] != '/'; i-- {
		if path[i] == '.' {
			dot = i
			break
		}
	}
	if dot < 0 || len(path)-dot > 8 {
		return ""
	}
	ext := path[dot:]
	for _, e := range imageExts {
		if strings.EqualFold(ext, e) {
			return "ext:" + e
		}
	}
	return ""
}

// TypeKind returns "type:<media type>" when the content type is an image media type.
func TypeKind(ct string) string {
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	ct = strings.TrimSpace(ct)
	for _, t := range imageTypes {
		if strings.EqualFold(ct, t) {
			return "type:" + t
		}
	}
	return ""
}

// Magic identifies an image by its leading bytes. done is false while more bytes could
// change the answer; final says no more bytes will come.
func Magic(b []byte, final bool) (kind string, done bool) {
	switch {
	case bytes.HasPrefix(b, []byte("\x7fELF")):
		return "elf", true
	case bytes.HasPrefix(b, []byte("\x27\x05\x19\x56")): // U-Boot legacy image header
		return "uimage", true
	case bytes.HasPrefix(b, []byte("\xd0\x0d\xfe\xed")): // flattened device tree: a U-Boot FIT image
		return "fit", true
	case bytes.HasPrefix(b, []byte("\x1f\x8b\x08")): // gzip, deflate
		return "gzip", true
	case bytes.HasPrefix(b, []byte("PK\x03\x04")):
		return "zip", true
	case bytes.HasPrefix(b, []byte("MZ")):
		// The DOS stub's e_lfanew points at "PE\0\0"; check it when it falls in the window,
		// so that a text body that happens to start with "MZ" is not an executable.
		if len(b) < 0x40 {
			return "", final
		}
		off := binary.LittleEndian.Uint32(b[0x3c:])
		switch {
		case off < 0x40 || off > 1<<16:
			return "", true
		case off+4 > SniffLen:
			return "pe", true // beyond the window: MZ and a sane offset will do
		case int(off)+4 > len(b):
			return "", final
		case string(b[off:off+4]) == "PE\x00\x00":
			return "pe", true
		}
		return "", true
	case len(b) > 0 && b[0] == ':':
		// Intel HEX: ":LLAAAATT" in hex digits, record type 00 to 05.
		if len(b) < 9 {
			return "", final
		}
		for _, c := range b[1:9] {
			if !isHex(c) {
				return "", true
			}
		}
		if b[7] == '0' && b[8] >= '0' && b[8] <= '5' {
			return "ihex", true
		}
		return "", true
	}
	if len(b) >= 262 {
		if string(b[257:262]) == "ustar" {
			return "tar", true
		}
		return "", true
	}
	// A prefix of a magic number, or too short to rule out tar.
	return "", final
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

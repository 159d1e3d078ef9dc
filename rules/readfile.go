package rules

import (
	"fmt"
	"io"
	"os"
)

// The largest files the policy names, read whole: a policy, a suppression file, a
// bundle of trust anchors. Past them the file is not what it claims to be (a policy
// naming /dev/zero must not read forever).
const (
	maxPolicyFile  = 4 << 20
	maxAnchorsFile = 64 << 20
)

// readBounded reads the file at path, refusing one longer than limit bytes.
func readBounded(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s: longer than %d MiB: not a file medscan reads whole", path, limit>>20)
	}
	return data, nil
}

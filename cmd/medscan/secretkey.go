package main

import (
	"github.com/spf13/pflag"

	"github.com/medscan/medscan/internal/secretkey"
)

// secretKeyFlag names the file of the credential-hash key, for the commands that hash
// credentials (scan); commands that only read a store never need it.
type secretKeyFlag struct{ file string }

func (k *secretKeyFlag) register(fs *pflag.FlagSet) {
	fs.StringVar(&k.file, "secret-key-file", "",
		"key `FILE` of the credential hashes, created (mode 0600) when absent; copy it to every sensor of a site so that their hashes compare "+
			"(default $XDG_CONFIG_HOME/medscan/secret.key, else ~/.config/medscan/secret.key)")
}

// path is --secret-key-file (or MEDSCAN_SECRET_KEY_FILE), else the default in the
// user's configuration directory.
func (k *secretKeyFlag) path() (string, error) {
	if k.file != "" {
		return k.file, nil
	}
	return secretkey.DefaultPath()
}

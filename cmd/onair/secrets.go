package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Files in the data directory that keep the generated identity of a node.
const (
	accountIDFile = "account-id"
	apiTokenFile  = "api-token"
)

// forgetIdentity removes an identity that identity generated, so that a
// start that failed before the token could be shown generates and shows a
// new one next time instead of keeping one nobody has seen.
func forgetIdentity(c *config) {
	os.Remove(filepath.Join(c.Data, apiTokenFile))
}

// identity fills in the account ID and API token that the config leaves empty,
// reading them from the data directory or generating and keeping them there.
// It reports whether a token was generated now, so that it is shown once.
func identity(c *config) (generated bool, err error) {
	if c.AccountID == "" {
		c.AccountID, _, err = keptSecret(filepath.Join(c.Data, accountIDFile), 16)
		if err != nil {
			return false, err
		}
	}

	if c.APIToken == "" {
		c.APIToken, generated, err = keptSecret(filepath.Join(c.Data, apiTokenFile), 24)
		if err != nil {
			return false, err
		}
	}

	return generated, nil
}

// keptSecret returns the hex value in path, or writes a new random one of n
// bytes there (mode 0600) when the file does not exist.
func keptSecret(path string, n int) (value string, created bool, err error) {
	b, err := os.ReadFile(path)
	if err == nil {
		v := strings.TrimSpace(string(b))
		if v == "" {
			return "", false, fmt.Errorf("%s is empty: delete it to generate a new value", path)
		}

		return v, false, nil
	}

	if !errors.Is(err, fs.ErrNotExist) {
		return "", false, err
	}

	buf := make([]byte, n)
	if _, err := rand.Read(buf); err != nil {
		return "", false, err
	}

	v := hex.EncodeToString(buf)
	tmp := path + ".tmp"

	if err := os.WriteFile(tmp, []byte(v+"\n"), 0o600); err != nil {
		return "", false, err
	}

	if err := os.Rename(tmp, path); err != nil {
		return "", false, err
	}

	return v, true, nil
}

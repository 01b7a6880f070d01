package recording

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Storage keeps a recording's files under slash-separated names such as
// "VIDEO/720p/seg_3.m4s". The filesystem implementation is Dir; an object
// store can implement it too. Implementations must be safe for concurrent
// use.
type Storage interface {
	// Write stores data under name whole: a reader never sees part of it,
	// even after a crash during the write.
	Write(name string, data []byte) error

	// Append adds data at the end of name, creating it when missing.
	Append(name string, data []byte) error

	// Read returns what is stored under name, or an error wrapping
	// fs.ErrNotExist.
	Read(name string) ([]byte, error)

	// Size returns the bytes stored under the names that start with
	// prefix + "/".
	Size(prefix string) (int64, error)

	// RemoveAll removes every name that starts with prefix + "/"; removing
	// nothing is not an error.
	RemoveAll(prefix string) error
}

// Dir is a Storage in a directory of the local filesystem.
type Dir struct {
	// Root is the directory; it is created on the first write.
	Root string
}

// path maps name to a file under Root, refusing names that would leave it.
func (d *Dir) path(name string) (string, error) {
	if !fs.ValidPath(name) || name == "." {
		return "", fmt.Errorf("recording file name %q is not valid", name)
	}

	return filepath.Join(d.Root, filepath.FromSlash(name)), nil
}

// Write implements Storage: it writes a temporary file beside name and
// renames it into place.
func (d *Dir) Write(name string, data []byte) error {
	p, err := d.path(name)
	if err != nil {
		return err
	}

	if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
		return err
	}

	f, err := os.CreateTemp(filepath.Dir(p), ".tmp-*")
	if err != nil {
		return err
	}

	_, err = f.Write(data)
	err = errors.Join(err, f.Close())

	if err == nil {
		err = os.Rename(f.Name(), p)
	}

	if err != nil {
		os.Remove(f.Name())
	}

	return err
}

// Append implements Storage.
func (d *Dir) Append(name string, data []byte) error {
	p, err := d.path(name)
	if err != nil {
		return err
	}

	if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
		return err
	}

	f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return err
	}

	_, err = f.Write(data)

	return errors.Join(err, f.Close())
}

// Read implements Storage.
func (d *Dir) Read(name string) ([]byte, error) {
	p, err := d.path(name)
	if err != nil {
		return nil, err
	}

	return os.ReadFile(p)
}

// Size implements Storage.
func (d *Dir) Size(prefix string) (int64, error) {
	p, err := d.path(prefix)
	if err != nil {
		return 0, err
	}

	var total int64

	err = filepath.WalkDir(p, func(_ string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}

		if e.Type().IsRegular() && !strings.HasPrefix(e.Name(), ".tmp-") {
			info, err := e.Info()
			if err != nil {
				return err
			}

			total += info.Size()
		}

		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}

	return total, err
}

// RemoveAll implements Storage.
func (d *Dir) RemoveAll(prefix string) error {
	p, err := d.path(prefix)
	if err != nil {
		return err
	}

	return os.RemoveAll(p)
}

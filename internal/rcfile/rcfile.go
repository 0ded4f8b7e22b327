// Package rcfile reads and rewrites AnyEvent::MP's configuration file (spec
// §7.1) for the aemp tool: the same file, in the same format, as Perl's
// AnyEvent::MP::Config and bin/aemp.
//
// The file is one JSON object. It is read as Perl reads it (relaxed:
// "#" comments, trailing commas) into a Value tree that keeps every key,
// the order of each object's members and the exact text of every scalar.
// It is written in the layout Perl writes, JSON::XS's "pretty" (three
// spaces per level, `"key" : value`, one member or element per line) plus
// the extra newline Config.pm appends, with the members in the order they
// were read and new keys last. Perl itself does not sort keys (Config.pm
// uses pretty without canonical, so its order is the hash's), which is why
// the order read is kept rather than any canonical one: a file Perl wrote
// comes back byte for byte when nothing changed, and otherwise differs only
// in what changed. Comments and a hand-made layout do not survive a write,
// as with Perl.
//
// Writes are atomic: a temporary file in the same directory, fsync, the
// previous file hard-linked as "<file>~" (as Perl does), rename, fsync of
// the directory. The file keeps its permission bits; a new file gets 0600,
// since it holds the shared secret. A symbolic link is followed and the
// file it names is replaced.
package rcfile

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// EnvPath is the environment variable that names the configuration file.
const EnvPath = "PERL_ANYEVENT_MP_RC"

// DefaultMode is the permission of a configuration file the tool creates.
const DefaultMode fs.FileMode = 0o600

// Path returns the configuration file's location (spec §7.1):
// $PERL_ANYEVENT_MP_RC, else $HOME/.perl-anyevent-mp, else
// $APPDATA/perl-anyevent-mp. An empty variable counts as unset.
func Path() (string, error) {
	if p := os.Getenv(EnvPath); p != "" {
		return p, nil
	}
	if h := os.Getenv("HOME"); h != "" {
		return filepath.Join(h, ".perl-anyevent-mp"), nil
	}
	if a := os.Getenv("APPDATA"); a != "" {
		return filepath.Join(a, "perl-anyevent-mp"), nil
	}
	return "", errors.New("cannot locate the configuration file: none of " + EnvPath + ", HOME and APPDATA is set")
}

// File is a configuration file loaded for editing.
type File struct {
	// Path is the file's name as given to Load.
	Path string
	// Root is the file's top-level object. Edit it in place; Save writes
	// it.
	Root *Value

	exists bool
	mode   fs.FileMode
	// loaded is Root's encoding right after Load: Save writes only when
	// the encoding differs from it.
	loaded []byte
}

// Load reads the configuration file at path. A missing file, or one with
// nothing but white space in it, gives the configuration Perl starts with,
// {"version": 1}. A file that does not parse is an error wrapping
// ErrSyntax (Perl would silently start from {"version": 1} and, on the next
// change, overwrite the file; the tool refuses instead).
func Load(path string) (*File, error) {
	f := &File{Path: path, mode: DefaultMode}
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		f.Root = fresh()
	case err != nil:
		return nil, err
	default:
		f.exists = true
		if st, err := os.Stat(path); err == nil {
			f.mode = st.Mode().Perm()
		}
		if len(bytes.TrimSpace(data)) == 0 {
			f.Root = fresh()
		} else if f.Root, err = Parse(data); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	f.loaded = f.encode()
	return f, nil
}

// fresh is the configuration of a missing file.
func fresh() *Value {
	v := NewObject()
	v.Set("version", NewInt(1))
	return v
}

// encode returns the file's text: the pretty JSON (which ends in a newline)
// and the newline Perl's Config.pm adds after it.
func (f *File) encode() []byte {
	return append(AppendFile(nil, f.Root), '\n')
}

// Changed reports whether Root differs from what Load read.
func (f *File) Changed() bool { return !bytes.Equal(f.encode(), f.loaded) }

// Save writes Root to the file if it changed since Load and reports
// whether it wrote.
func (f *File) Save() (bool, error) {
	data := f.encode()
	if bytes.Equal(data, f.loaded) {
		return false, nil
	}
	target := f.Path
	if real, err := filepath.EvalSymlinks(f.Path); err == nil {
		target = real
	}
	if err := writeAtomic(target, data, f.mode, f.exists); err != nil {
		return false, err
	}
	f.loaded, f.exists = data, true
	return true, nil
}

func writeAtomic(path string, data []byte, mode fs.FileMode, backup bool) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, base+"~new~")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err = tmp.Chmod(mode); err != nil {
		return err
	}
	if _, err = tmp.Write(data); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if backup {
		// As Perl's Config.pm: the previous file stays as "<file>~". Best
		// effort, like Perl (a file system without hard links has none).
		os.Remove(path + "~")
		os.Link(path, path+"~")
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	return syncDir(dir)
}

// syncDir makes a rename in dir durable. File systems that cannot sync a
// directory are not an error.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return nil
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) && !errors.Is(err, errors.ErrUnsupported) {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

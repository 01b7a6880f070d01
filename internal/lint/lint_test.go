package lint

import (
	"bufio"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// maxColumns is the widest line STYLE.md allows.
const maxColumns = 120

// moduleRoot is the directory of go.mod, two levels up from this package.
var moduleRoot = filepath.Join("..", "..")

// packageDirs returns every directory of the module holding Go files,
// skipping testdata.
func packageDirs(t *testing.T) map[string][]string {
	t.Helper()

	dirs := map[string][]string{}
	err := filepath.WalkDir(moduleRoot, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}

		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".") && path != moduleRoot) {
			return filepath.SkipDir
		}

		if !d.IsDir() && strings.HasSuffix(path, ".go") {
			dirs[filepath.Dir(path)] = append(dirs[filepath.Dir(path)], path)
		}

		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	return dirs
}

func TestEveryPackageHasADocComment(t *testing.T) {
	for dir, files := range packageDirs(t) {
		documented := false

		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}

			parsed, err := parser.ParseFile(token.NewFileSet(), f, nil,
				parser.PackageClauseOnly|parser.ParseComments)
			if err != nil {
				t.Fatal(err)
			}

			if parsed.Doc != nil && strings.TrimSpace(parsed.Doc.Text()) != "" {
				documented = true
				break
			}
		}

		if !documented {
			t.Errorf("package in %s has no package doc comment", dir)
		}
	}
}

func TestNoLineWiderThanTheStyleAllows(t *testing.T) {
	for _, files := range packageDirs(t) {
		for _, f := range files {
			checkWidth(t, f)
		}
	}
}

func checkWidth(t *testing.T, path string) {
	t.Helper()

	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)

	for n := 1; sc.Scan(); n++ {
		// Tabs count as four columns, as the style's measurements did.
		width := len(strings.ReplaceAll(sc.Text(), "\t", "    "))
		if width > maxColumns {
			t.Errorf("%s:%d is %d columns wide, over %d", path, n, width, maxColumns)
		}
	}
}

// Package courtmesh_test checks repository-wide rules that no single package
// can check for itself.
package courtmesh_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestEveryPackageHasOneDocComment enforces STYLE.md habit 17: every package
// has exactly one package comment, in doc.go once it has more than three files.
func TestEveryPackageHasOneDocComment(t *testing.T) {
	t.Parallel()
	dirs := map[string][]string{}
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || strings.HasPrefix(d.Name(), ".") && path != "." || d.Name() == "testdata" || d.Name() == "bench-out") {
			return filepath.SkipDir
		}
		if d.IsDir() && path != "." {
			if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
				return filepath.SkipDir // another module
			}
		}
		if !d.IsDir() && strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, "_test.go") {
			dirs[filepath.Dir(path)] = append(dirs[filepath.Dir(path)], path)
		}
		return nil
	})
	require.NoError(t, err)
	for dir, files := range dirs {
		var withDoc []string
		for _, f := range files {
			af, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.PackageClauseOnly|parser.ParseComments)
			require.NoError(t, err)
			if af.Doc != nil && strings.TrimSpace(af.Doc.Text()) != "" {
				withDoc = append(withDoc, filepath.Base(f))
			}
		}
		require.Len(t, withDoc, 1, "package %s: want exactly one package comment, found in %v", dir, withDoc)
		if len(files) > 3 {
			require.Equal(t, "doc.go", withDoc[0], "package %s has %d files: its package comment belongs in doc.go", dir, len(files))
		}
	}
}

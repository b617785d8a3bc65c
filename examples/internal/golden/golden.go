// Package golden compares the output of an example program with its
// expected copy under testdata; `go test ./examples/<name> -update`
// rewrites the copy after a deliberate change.
package golden

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// Check compares got with the content of the file at path (relative to
// the test's package directory), or writes got there with -update.
func Check(t testing.TB, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(want) != got {
		t.Errorf("output differs from %s: %s", path, firstDifference(string(want), got))
	}
}

// firstDifference names the first line at which got departs from want.
func firstDifference(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	line := func(ls []string, i int) string {
		if i >= len(ls) {
			return "(end of output)"
		}
		return strconv.Quote(ls[i])
	}
	for i := 0; i < max(len(w), len(g)); i++ {
		if i >= len(w) || i >= len(g) || w[i] != g[i] {
			return fmt.Sprintf("line %d:\n  want %s\n  got  %s", i+1, line(w, i), line(g, i))
		}
	}
	return "(no line differs)"
}

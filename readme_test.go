package tenantry_test

import (
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestReadmeTaste keeps the README's "A taste" identical to the body of
// Example_taste, which compiles and runs with the tests.
func TestReadmeTaste(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n## A taste\n")
	if !ok {
		t.Fatal(`README.md has no "## A taste" section`)
	}
	_, block, ok := strings.Cut(section, "```go\n")
	snippet, _, closed := strings.Cut(block, "```\n")
	if !ok || !closed {
		t.Fatal(`"A taste" has no go code block`)
	}
	src, err := os.ReadFile("example_taste_test.go")
	if err != nil {
		t.Fatal(err)
	}
	_, body, ok := strings.Cut(string(src), "func Example_taste() {\n")
	body, _, ended := strings.Cut(body, "\t// Output:")
	if !ok || !ended {
		t.Fatal("example_taste_test.go has no Example_taste with an Output comment")
	}
	var want strings.Builder
	for line := range strings.Lines(body) {
		want.WriteString(strings.TrimPrefix(line, "\t"))
	}
	if diff := cmp.Diff(want.String(), snippet); diff != "" {
		t.Errorf("README's \"A taste\" differs from Example_taste (-example +README):\n%s", diff)
	}
}

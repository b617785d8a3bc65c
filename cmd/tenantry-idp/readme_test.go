package main

import (
	"os"
	"strings"
	"testing"
)

// The README's example seed is testdata/seed.json, which the tests apply
// and serve.
func TestReadmeSeedIsTheTestedSeed(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n## Development identity provider\n")
	if !ok {
		t.Fatal(`README.md has no "## Development identity provider" section`)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	_, block, ok := strings.Cut(section, "```json\n")
	block, _, closed := strings.Cut(block, "```\n")
	if !ok || !closed {
		t.Fatal("the section has no json code block")
	}
	seed, err := os.ReadFile("testdata/seed.json")
	if err != nil {
		t.Fatal(err)
	}
	if block != string(seed) {
		t.Error("the README's example seed differs from testdata/seed.json")
	}
}

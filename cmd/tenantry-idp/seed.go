package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/tenantry/tenantry"
	"github.com/tenantry/tenantry/tenant"
)

// maxSeedBytes bounds a seed file.
const maxSeedBytes = 8 << 20

// seedError is a refused seed: its message names the object and the field
// and never shows a secret or password.
type seedError struct {
	msg string
	err error
}

func (e *seedError) Error() string { return e.msg }
func (e *seedError) Unwrap() error { return e.err }

// loadSeed reads a seed: a tenantry.Manifest in JSON, with no unknown
// field and nothing after it.
func loadSeed(path string) (tenantry.Manifest, error) {
	f, err := os.Open(path)
	if err != nil {
		return tenantry.Manifest{}, &seedError{msg: "seed: " + err.Error(), err: err}
	}
	defer f.Close()
	raw, err := io.ReadAll(io.LimitReader(f, maxSeedBytes+1))
	if err != nil {
		return tenantry.Manifest{}, &seedError{msg: "seed: " + err.Error(), err: err}
	}
	if len(raw) > maxSeedBytes {
		return tenantry.Manifest{}, &seedError{msg: fmt.Sprintf("seed: %s is larger than %d bytes", path, maxSeedBytes)}
	}
	return parseSeed(raw)
}

// parseSeed decodes a seed document.
func parseSeed(raw []byte) (tenantry.Manifest, error) {
	var m tenantry.Manifest
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return m, &seedError{msg: "seed: " + jsonProblem(raw, err), err: err}
	}
	if _, err := dec.Token(); err != io.EOF {
		return m, &seedError{msg: "seed: unexpected data after the manifest"}
	}
	return m, nil
}

// jsonProblem describes a decoding error by its place in the file. The
// decoder's messages name fields and types, never values.
func jsonProblem(raw []byte, err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("line %d: %s", line(raw, se.Offset), se.Error())
	case errors.As(err, &te):
		return fmt.Sprintf("line %d: %s: a JSON %s cannot be a %s", line(raw, te.Offset), te.Field, te.Value, te.Type)
	}
	return err.Error()
}

func line(raw []byte, offset int64) int {
	if offset > int64(len(raw)) {
		offset = int64(len(raw))
	}
	return 1 + bytes.Count(raw[:offset], []byte("\n"))
}

// applySeed applies the seed in one transaction: a refused seed changes
// nothing. Its error names the object (path and name) and each field.
func applySeed(ctx context.Context, dir *tenantry.Directory, m tenantry.Manifest) ([]tenantry.Change, error) {
	changes, err := dir.Apply(ctx, tenantry.System(), m)
	if err == nil {
		return changes, nil
	}
	var me *tenantry.ManifestError
	if errors.As(err, &me) {
		return nil, &seedError{msg: fmt.Sprintf("seed: %s %q: %s", me.Path, me.Name, reasons(me.Err)), err: err}
	}
	return nil, &seedError{msg: "seed: " + err.Error(), err: err}
}

// reasons writes each reason of err ("field: reason" for field errors),
// separated by "; ".
func reasons(err error) string {
	var out []string
	var walk func(error)
	walk = func(err error) {
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				walk(e)
			}
			return
		}
		var fe *tenant.FieldError
		if errors.As(err, &fe) {
			out = append(out, fe.Field+": "+fe.Reason)
			return
		}
		out = append(out, err.Error())
	}
	walk(err)
	return strings.Join(out, "; ")
}

package token

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"
)

// claimDecoder is a strict single-pass reader of a flat JSON object. Methods
// do nothing once an error is recorded; finish reports it.
type claimDecoder struct {
	data    []byte
	pos     int
	err     error
	key     []byte // current member name, unescaped
	seen    uint64
	started bool
}

func (d *claimDecoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: "+format, append([]any{ErrInvalidClaims}, args...)...)
	}
}

func (d *claimDecoder) ws() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

// peek returns the next non-space byte, or 0 at the end.
func (d *claimDecoder) peek() byte {
	d.ws()
	if d.pos < len(d.data) {
		return d.data[d.pos]
	}
	return 0
}

// null reports whether the whole input is the literal null.
func (d *claimDecoder) null() bool {
	if d.peek() == 'n' && d.literal("null") {
		if d.atEnd() {
			return true
		}
		d.pos = 0
	}
	return false
}

// atEnd reports whether only whitespace remains.
func (d *claimDecoder) atEnd() bool {
	d.ws()
	return d.pos == len(d.data)
}

func (d *claimDecoder) literal(lit string) bool {
	if len(d.data)-d.pos >= len(lit) && string(d.data[d.pos:d.pos+len(lit)]) == lit {
		d.pos += len(lit)
		return true
	}
	return false
}

// next advances to the next member and stores its name in d.key.
func (d *claimDecoder) next() bool {
	if d.err != nil {
		return false
	}
	if !d.started {
		d.started = true
		if d.peek() != '{' {
			d.fail("payload is not a JSON object")
			return false
		}
		d.pos++
		if d.peek() == '}' {
			d.pos++
			return false
		}
	} else {
		switch d.peek() {
		case ',':
			d.pos++
		case '}':
			d.pos++
			return false
		default:
			d.fail("malformed object at offset %d", d.pos)
			return false
		}
	}
	if d.peek() != '"' {
		d.fail("malformed object at offset %d", d.pos)
		return false
	}
	d.key = d.rawString(d.key[:0])
	if d.err != nil {
		return false
	}
	if d.peek() != ':' {
		d.fail("malformed object at offset %d", d.pos)
		return false
	}
	d.pos++
	return true
}

func (d *claimDecoder) finish() error {
	if d.err == nil && !d.atEnd() {
		d.fail("trailing data at offset %d", d.pos)
	}
	return d.err
}

// once records member bit and fails on a duplicate.
func (d *claimDecoder) once(bit uint) {
	if d.seen&(1<<bit) != 0 {
		d.fail("duplicate claim %.64q", d.key)
	}
	d.seen |= 1 << bit
}

// rawString reads the JSON string at d.pos (which holds '"') and appends
// its unescaped content to dst. The common case, plain ASCII, is a copy.
func (d *claimDecoder) rawString(dst []byte) []byte {
	start := d.pos
	for i := start + 1; i < len(d.data); i++ {
		c := d.data[i]
		if c == '"' {
			d.pos = i + 1
			return append(dst, d.data[start+1:i]...)
		}
		if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			break
		}
	}
	// Slow path: escapes, non-ASCII or malformed; let encoding/json decide,
	// so that decoding matches it exactly (invalid UTF-8 becomes U+FFFD).
	end, ok := jsonSkipString(d.data, start)
	var s string
	if !ok || json.Unmarshal(d.data[start:end], &s) != nil {
		d.fail("malformed string at offset %d", start)
		return dst
	}
	d.pos = end
	return append(dst, s...)
}

// string reads a JSON string at d.pos (which holds '"').
func (d *claimDecoder) string() string {
	start := d.pos
	for i := start + 1; i < len(d.data); i++ {
		c := d.data[i]
		if c == '"' {
			d.pos = i + 1
			return string(d.data[start+1 : i])
		}
		if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			break
		}
	}
	return string(d.rawString(nil))
}

func (d *claimDecoder) str() string {
	if d.err != nil {
		return ""
	}
	switch d.peek() {
	case '"':
		return d.string()
	case 'n':
		if d.literal("null") {
			return ""
		}
	}
	d.fail("claim %q: want a string", d.key)
	return ""
}

func (d *claimDecoder) strs() []string {
	if d.err != nil {
		return nil
	}
	switch d.peek() {
	case 'n':
		if d.literal("null") {
			return nil
		}
	case '[':
		d.pos++
		out := []string{}
		if d.peek() == ']' {
			d.pos++
			return out
		}
		for d.err == nil {
			if d.peek() != '"' {
				break
			}
			out = append(out, d.string())
			switch d.peek() {
			case ',':
				d.pos++
				continue
			case ']':
				d.pos++
				return out
			}
			break
		}
	}
	d.fail("claim %q: want an array of strings", d.key)
	return nil
}

// audience reads aud: a string or an array of strings.
func (d *claimDecoder) audience() Audience {
	if d.err != nil {
		return nil
	}
	switch d.peek() {
	case '[':
		return d.strs()
	case '"':
		return Audience{d.string()}
	}
	if d.peek() == 'n' && d.literal("null") {
		return nil
	}
	d.fail("claim \"aud\": want a string or an array of strings")
	return nil
}

func (d *claimDecoder) boolean() bool {
	if d.err != nil {
		return false
	}
	switch {
	case d.peek() == 't' && d.literal("true"):
		return true
	case d.peek() == 'f' && d.literal("false"), d.peek() == 'n' && d.literal("null"):
		return false
	}
	d.fail("claim %q: want a boolean", d.key)
	return false
}

// int reads a NumericDate: an integer, or an integral JSON number within
// int64 range (some issuers write 1.7e9 or 1700000000.0).
func (d *claimDecoder) int() int64 {
	if d.err != nil {
		return 0
	}
	if d.peek() == 'n' && d.literal("null") {
		return 0
	}
	start := d.pos
	end, ok := jsonSkipNumber(d.data, start)
	if !ok {
		d.fail("claim %q: want a number", d.key)
		return 0
	}
	d.pos = end
	s := string(d.data[start:end])
	if v, err := strconv.ParseInt(s, 10, 64); err == nil {
		return v
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != math.Trunc(f) || f < math.MinInt64 || f >= math.MaxInt64 {
		d.fail("claim %q: want an integer", d.key)
		return 0
	}
	return int64(f)
}

// generic decodes the next value into v with encoding/json.
func (d *claimDecoder) generic(v any) {
	if d.err != nil {
		return
	}
	d.ws()
	start := d.pos
	end, ok := jsonSkipValue(d.data, start)
	if !ok {
		d.fail("claim %q: malformed value", d.key)
		return
	}
	if err := json.Unmarshal(d.data[start:end], v); err != nil {
		d.fail("claim %.64q: %v", d.key, err)
		return
	}
	d.pos = end
}

// extra decodes an unknown claim into *m.
func (d *claimDecoder) extra(m *map[string]any) {
	if d.err != nil {
		return
	}
	if _, dup := (*m)[string(d.key)]; dup {
		d.fail("duplicate claim %.64q", d.key)
		return
	}
	name := string(d.key)
	var v any
	d.generic(&v)
	if d.err != nil {
		return
	}
	if *m == nil {
		*m = make(map[string]any)
	}
	(*m)[name] = v
}

// jsonSkipString returns the end of the JSON string starting at data[i] == '"'.
// Content validity (escapes, control characters) is left to the caller.
func jsonSkipString(data []byte, i int) (int, bool) {
	for i++; i < len(data); i++ {
		switch data[i] {
		case '\\':
			i++
		case '"':
			return i + 1, true
		}
	}
	return 0, false
}

// jsonSkipNumber returns the end of the JSON number starting at data[i],
// checking the grammar of RFC 8259 §6.
func jsonSkipNumber(data []byte, i int) (int, bool) {
	digits := func() bool {
		s := i
		for i < len(data) && data[i] >= '0' && data[i] <= '9' {
			i++
		}
		return i > s
	}
	if i < len(data) && data[i] == '-' {
		i++
	}
	switch {
	case i < len(data) && data[i] == '0':
		i++
	case !digits():
		return 0, false
	}
	if i < len(data) && data[i] == '.' {
		i++
		if !digits() {
			return 0, false
		}
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		if !digits() {
			return 0, false
		}
	}
	return i, true
}

// jsonSkipValue returns the end of the JSON value starting at data[i]. It only
// delimits the value; callers validate it with encoding/json.
func jsonSkipValue(data []byte, i int) (int, bool) {
	if i >= len(data) {
		return 0, false
	}
	switch data[i] {
	case '"':
		return jsonSkipString(data, i)
	case '{', '[':
		depth := 0
		for ; i < len(data); i++ {
			switch data[i] {
			case '"':
				end, ok := jsonSkipString(data, i)
				if !ok {
					return 0, false
				}
				i = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1, true
				}
			}
		}
		return 0, false
	default:
		s := i
		for i < len(data) && (data[i] == '-' || data[i] == '+' || data[i] == '.' ||
			data[i] >= '0' && data[i] <= '9' || data[i] >= 'a' && data[i] <= 'z' || data[i] >= 'A' && data[i] <= 'Z') {
			i++
		}
		return i, i > s
	}
}

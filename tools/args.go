package tools

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"sort"
	"strings"
)

// decode reads args into v strictly: one JSON object, no unknown fields,
// no trailing data. Empty args mean {}.
func decode(args json.RawMessage, v any) *Error {
	b := bytes.TrimSpace(args)
	if len(b) == 0 || bytes.Equal(b, []byte("null")) {
		b = []byte("{}")
	}
	if b[0] != '{' {
		return &Error{Code: CodeInvalidArgs, Message: "arguments must be a JSON object"}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		e := decodeError(err)
		if e.Message == "unknown field" {
			// encoding/json names only the key; find its full path so
			// the caller knows which object it was in.
			var raw any
			if json.Unmarshal(b, &raw) == nil {
				if p := unknownPath(reflect.TypeOf(v), raw, ""); p != "" {
					e.Field = p
				}
			}
		}
		return e
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return &Error{Code: CodeInvalidJSON, Message: "trailing data after the arguments object"}
	}
	return nil
}

// unknownPath returns the JSON path of the first key in v that type t
// has no field for, or "".
func unknownPath(t reflect.Type, v any, prefix string) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch x := v.(type) {
	case map[string]any:
		if t.Kind() != reflect.Struct {
			return ""
		}
		fields := map[string]reflect.Type{}
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "" {
				name = f.Name
			}
			if name != "-" {
				fields[strings.ToLower(name)] = f.Type
			}
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			ft, ok := fields[strings.ToLower(k)]
			path := strings.TrimPrefix(prefix+"."+k, ".")
			if !ok {
				return path
			}
			if p := unknownPath(ft, x[k], path); p != "" {
				return p
			}
		}
	case []any:
		if t.Kind() != reflect.Slice && t.Kind() != reflect.Array {
			return ""
		}
		for i, e := range x {
			if p := unknownPath(t.Elem(), e, fmt.Sprintf("%s[%d]", prefix, i)); p != "" {
				return p
			}
		}
	}
	return ""
}

func decodeError(err error) *Error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return &Error{Code: CodeInvalidJSON, Message: fmt.Sprintf("arguments are not valid JSON at byte %d: %v", se.Offset, se), err: err}
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return &Error{Code: CodeInvalidJSON, Message: "arguments are truncated JSON", err: err}
	case errors.As(err, &te):
		return &Error{Code: CodeInvalidArgs, Field: te.Field, Message: fmt.Sprintf("want %s, got JSON %s", te.Type, te.Value), err: err}
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		name = strings.Trim(name, `"`)
		return &Error{Code: CodeInvalidArgs, Field: name, Message: "unknown field", err: err}
	}
	return &Error{Code: CodeInvalidArgs, Message: err.Error(), err: err}
}

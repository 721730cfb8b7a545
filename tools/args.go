package tools

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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
		return decodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return &Error{Code: CodeInvalidJSON, Message: "trailing data after the arguments object"}
	}
	return nil
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

package input

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
)

// DescribeJSON names the place of a JSON decoding error without quoting
// the input, which may hold a secret: "line L col C: <err>" for a syntax
// error, "field F: want T, got V" for a value of the wrong type; any other
// error is returned as it is.
func DescribeJSON(data []byte, err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		line, col := LineCol(data, se.Offset)
		return fmt.Errorf("line %d col %d: %w", line, col, err)
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			field = "(top level)"
		}
		return fmt.Errorf("field %s: want %s, got %s", field, te.Type, te.Value)
	}
	return err
}

// LineCol is the line and column, both counted from 1, of byte offset off
// in data (an offset past the end counts as the end).
func LineCol(data []byte, off int64) (line, col int) {
	off = min(off, int64(len(data)))
	before := data[:off]
	return bytes.Count(before, []byte("\n")) + 1, int(off) - bytes.LastIndexByte(before, '\n')
}

// BadField finds which top-level field of a JSON object fails to decode
// into a T, so an error can name it (".created"): decoders of time types
// do not say. It is "" when raw is no object or every field decodes alone.
func BadField[T any](raw json.RawMessage) string {
	var fields map[string]json.RawMessage
	if json.Unmarshal(raw, &fields) != nil {
		return ""
	}
	for _, k := range slices.Sorted(maps.Keys(fields)) {
		one, _ := json.Marshal(map[string]json.RawMessage{k: fields[k]})
		var item T
		if json.Unmarshal(one, &item) != nil {
			return "." + k
		}
	}
	return ""
}

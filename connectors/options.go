package connectors

import (
	"fmt"
	"strconv"
	"strings"
)

// Bool reads the switch name: false when it is not given, else what
// strconv.ParseBool makes of it. The error names the option
// ("option live: strconv.ParseBool: ..."); the caller prefixes its source.
func (o Options) Bool(name string) (bool, error) {
	v := o[name]
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("option %s: %w", name, err)
	}
	return b, nil
}

// FromOrLive reads the options of a connector that reads either a
// directory of recorded API responses (--from DIR) or the live API
// (--live, which takes true/false/1/0 in any case): exactly one must be
// given. Errors start with source.
func FromOrLive(source string, opts Options) (dir string, live bool, err error) {
	switch strings.ToLower(opts["live"]) {
	case "", "false", "0":
	case "true", "1":
		live = true
	default:
		return "", false, fmt.Errorf("%s: option live: %q is not a boolean", source, opts["live"])
	}
	dir = opts["from"]
	if live == (dir != "") {
		return "", false, fmt.Errorf("%s: give exactly one of --from DIR or --live", source)
	}
	return dir, live, nil
}

// ReadToken reads a file holding one API token, trimming the white space
// around it. Errors name the file, never its content ("read token file:
// ...", "token file F is empty"); the caller prefixes its source.
func ReadToken(readFile func(path string) ([]byte, error), path string) (string, error) {
	raw, err := readFile(path)
	if err != nil {
		return "", fmt.Errorf("read token file: %w", err)
	}
	tok := strings.TrimSpace(string(raw))
	if tok == "" {
		return "", fmt.Errorf("token file %s is empty", path)
	}
	return tok, nil
}

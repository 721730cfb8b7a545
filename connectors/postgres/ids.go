package postgres

import (
	"fmt"
	"strings"
)

// Node ids are "<source>:<kind>/<component>[/<component>...]". PostgreSQL
// names may contain "/", so each component escapes "%" and "/" as %25 and
// %2F; that keeps ids readable for ordinary names and reversible for the
// actuator, which turns an id back into the names it quotes.

// PublicRole is the local name of the node standing for PUBLIC, the
// implicit group every role belongs to. A real role cannot be named
// "public" (the name is reserved), so the id cannot collide.
const PublicRole = "public"

func esc(s string) string {
	return strings.NewReplacer("%", "%25", "/", "%2F").Replace(s)
}

func unesc(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b.WriteByte(s[i])
			continue
		}
		switch {
		case strings.HasPrefix(s[i:], "%25"):
			b.WriteByte('%')
		case strings.HasPrefix(s[i:], "%2F"):
			b.WriteByte('/')
		default:
			return "", fmt.Errorf("bad escape in %q", s)
		}
		i += 2
	}
	return b.String(), nil
}

func joinPath(parts ...string) string {
	out := make([]string, len(parts))
	for i, p := range parts {
		out[i] = esc(p)
	}
	return strings.Join(out, "/")
}

func roleID(source, role string) string { return source + ":role/" + esc(role) }

func dbID(source, db string) string { return source + ":db/" + esc(db) }

func schemaID(source, db, schema string) string {
	return source + ":schema/" + joinPath(db, schema)
}

func tableID(source, db, schema, table string) string {
	return source + ":table/" + joinPath(db, schema, table)
}

// objectRef is a parsed node id: a role, database, schema or table.
type objectRef struct {
	kind  string // "role", "db", "schema", "table"
	parts []string
}

// parseID splits a node id of source into its kind and unescaped names.
func parseID(source, id string) (objectRef, error) {
	rest, ok := strings.CutPrefix(id, source+":")
	if !ok {
		return objectRef{}, fmt.Errorf("postgres: node %q is not in source %q", id, source)
	}
	kind, p, ok := strings.Cut(rest, "/")
	want := map[string]int{"role": 1, "db": 1, "schema": 2, "table": 3}[kind]
	if !ok || want == 0 {
		return objectRef{}, fmt.Errorf("postgres: node %q: not a role, db, schema or table id", id)
	}
	raw := strings.Split(p, "/")
	if len(raw) != want {
		return objectRef{}, fmt.Errorf("postgres: node %q: want %d name(s) after %q", id, want, kind+"/")
	}
	ref := objectRef{kind: kind}
	for _, r := range raw {
		s, err := unesc(r)
		if err != nil || s == "" {
			return objectRef{}, fmt.Errorf("postgres: node %q: bad name %q", id, r)
		}
		ref.parts = append(ref.parts, s)
	}
	return ref, nil
}

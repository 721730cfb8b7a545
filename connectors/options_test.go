package connectors

import (
	"errors"
	"testing"
)

func TestOptionsBool(t *testing.T) {
	for _, c := range []struct {
		v       string
		want    bool
		wantErr string
	}{
		{"", false, ""},
		{"true", true, ""},
		{"1", true, ""},
		{"false", false, ""},
		{"yes", false, `option live: strconv.ParseBool: parsing "yes": invalid syntax`},
	} {
		got, err := Options{"live": c.v}.Bool("live")
		if c.wantErr != "" {
			if err == nil || err.Error() != c.wantErr {
				t.Errorf("Bool(%q): err %v, want %q", c.v, err, c.wantErr)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("Bool(%q) = %v, %v; want %v", c.v, got, err, c.want)
		}
	}
}

func TestFromOrLive(t *testing.T) {
	for _, c := range []struct {
		opts     Options
		wantDir  string
		wantLive bool
		wantErr  string
	}{
		{Options{"from": "d"}, "d", false, ""},
		{Options{"from": "d", "live": "False"}, "d", false, ""},
		{Options{"live": "TRUE"}, "", true, ""},
		{Options{"live": "1"}, "", true, ""},
		{Options{}, "", false, "x: give exactly one of --from DIR or --live"},
		{Options{"from": "d", "live": "true"}, "", false, "x: give exactly one of --from DIR or --live"},
		{Options{"live": "t"}, "", false, `x: option live: "t" is not a boolean`},
	} {
		dir, live, err := FromOrLive("x", c.opts)
		if c.wantErr != "" {
			if err == nil || err.Error() != c.wantErr {
				t.Errorf("FromOrLive(%v): err %v, want %q", c.opts, err, c.wantErr)
			}
			continue
		}
		if err != nil || dir != c.wantDir || live != c.wantLive {
			t.Errorf("FromOrLive(%v) = %q, %v, %v; want %q, %v", c.opts, dir, live, err, c.wantDir, c.wantLive)
		}
	}
}

func TestReadToken(t *testing.T) {
	files := map[string]string{"tok": "  abc\n", "blank": " \n"}
	read := func(p string) ([]byte, error) {
		if v, ok := files[p]; ok {
			return []byte(v), nil
		}
		return nil, errors.New("open " + p + ": no such file")
	}
	if got, err := ReadToken(read, "tok"); err != nil || got != "abc" {
		t.Errorf("ReadToken(tok) = %q, %v", got, err)
	}
	for path, want := range map[string]string{"blank": "token file blank is empty", "nope": "read token file: open nope: no such file"} {
		if _, err := ReadToken(read, path); err == nil || err.Error() != want {
			t.Errorf("ReadToken(%s): err %v, want %q", path, err, want)
		}
	}
}

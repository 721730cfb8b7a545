package connectors

import "testing"

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

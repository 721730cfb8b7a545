package slackbot

import (
	"testing"
	"time"
)

func TestSeenIsBounded(t *testing.T) {
	t0 := time.Unix(1_800_000_000, 0)
	tests := []struct {
		name string
		max  int
		ttl  time.Duration
		adds []struct {
			key string
			at  time.Duration
			new bool
		}
	}{
		{name: "repeat is not new, eviction forgets the oldest", max: 2, adds: []struct {
			key string
			at  time.Duration
			new bool
		}{{"a", 0, true}, {"a", 0, false}, {"b", 0, true}, {"c", 0, true}, {"a", 0, true}, {"c", 0, false}}},
		{name: "ttl forgets", max: 10, ttl: 5 * time.Minute, adds: []struct {
			key string
			at  time.Duration
			new bool
		}{{"sig", 0, true}, {"sig", 4 * time.Minute, false}, {"sig", 5 * time.Minute, true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSeen(tt.max, tt.ttl)
			for i, a := range tt.adds {
				if got := s.add(a.key, t0.Add(a.at)); got != a.new {
					t.Fatalf("add %d (%s) = %v, want %v", i, a.key, got, a.new)
				}
				if len(s.at) > tt.max || s.order.Len() != len(s.at) {
					t.Fatalf("size %d/%d exceeds %d", len(s.at), s.order.Len(), tt.max)
				}
			}
		})
	}
}

func TestLRUIsBounded(t *testing.T) {
	l := newLRU[int](2)
	l.put("a", 1)
	l.put("b", 2)
	l.get("a") // a is now the most recent
	l.put("c", 3)
	if _, ok := l.get("b"); ok {
		t.Fatal("b should have been evicted")
	}
	for k, want := range map[string]int{"a": 1, "c": 3} {
		if v, ok := l.get(k); !ok || v != want {
			t.Fatalf("get %s = %v, %v", k, v, ok)
		}
	}
}

func TestReplayCacheExpiresAndRefusesWhenFull(t *testing.T) {
	s := newSeen(2, replayWindow)
	s.strict = true
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	got := []bool{s.add("a", t0), s.add("a", t0.Add(time.Minute)), s.add("b", t0), s.add("c", t0.Add(time.Minute)),
		s.add("a", t0.Add(replayWindow+time.Second)), s.add("c", t0.Add(replayWindow+time.Second))}
	// a new; a replay; b new; c refused (full, nothing expired); after
	// the window a and b expire, so a is new again and c fits.
	want := []bool{true, false, true, false, true, true}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("add sequence %v, want %v", got, want)
		}
	}
}

package fakeclock

import (
	"sync"
	"testing"
	"time"
)

func TestClock(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		advance []time.Duration
		want    time.Time
	}{
		{"reads its start until moved", nil, t0},
		{"moves by the sum of its advances", []time.Duration{time.Hour, 30 * time.Minute}, t0.Add(90 * time.Minute)},
		{"moves back", []time.Duration{-24 * time.Hour}, t0.Add(-24 * time.Hour)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := New(t0)
			for _, d := range tt.advance {
				c.Advance(d)
			}
			if got := c.Now(); !got.Equal(tt.want) {
				t.Fatalf("Now = %v, want %v", got, tt.want)
			}
		})
	}
}

// Concurrent advances all land (run with -race).
func TestClockConcurrent(t *testing.T) {
	c := New(time.Time{})
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.Advance(time.Second)
			_ = c.Now()
		}()
	}
	wg.Wait()
	if got := c.Now(); !got.Equal(time.Time{}.Add(50 * time.Second)) {
		t.Fatalf("Now = %v after 50 advances of 1s", got)
	}
}

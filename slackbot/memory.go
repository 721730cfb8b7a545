package slackbot

import (
	"container/list"
	"sync"
	"time"
)

// replayWindow is how long a signed request stays acceptable (Slack's
// five minutes), hence how long its signature must be remembered.
const replayWindow = 5 * time.Minute

// seen is a bounded set of recently seen keys: at most max keys, each
// forgotten after ttl (0: only by eviction, oldest first). Bounded so a
// flood of requests cannot grow memory.
type seen struct {
	mu  sync.Mutex
	max int
	ttl time.Duration
	// strict refuses a new key when the set is full of keys still within
	// ttl, instead of evicting one (which would let it be replayed).
	strict bool
	at     map[string]time.Time
	order  *list.List // of string, oldest first
}

// maxReplayKeys bounds the replay cache: requests signed in the last
// five minutes (about 220 a second). Beyond it requests are refused, not
// remembered less: forgetting one early would let it be replayed.
const maxReplayKeys = 65536

// newReplayCache is the set of signed requests seen within replayWindow.
func newReplayCache() *seen {
	s := newSeen(maxReplayKeys, replayWindow)
	s.strict = true
	return s
}

func newSeen(max int, ttl time.Duration) *seen {
	return &seen{max: max, ttl: ttl, at: map[string]time.Time{}, order: list.New()}
}

// add records key at now and reports whether it was new.
func (s *seen) add(key string, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for e := s.order.Front(); e != nil && s.ttl > 0; e = s.order.Front() {
		k := e.Value.(string)
		if now.Sub(s.at[k]) < s.ttl {
			break
		}
		delete(s.at, k)
		s.order.Remove(e)
	}
	if _, ok := s.at[key]; ok {
		return false
	}
	if s.strict && s.order.Len() >= s.max {
		return false
	}
	for s.order.Len() >= s.max {
		e := s.order.Front()
		delete(s.at, e.Value.(string))
		s.order.Remove(e)
	}
	s.at[key] = now
	s.order.PushBack(key)
	return true
}

// lru keeps the most recently used max values by key.
type lru[V any] struct {
	max   int
	items map[string]*list.Element
	order *list.List // of *lruItem[V], most recent at the back
}

type lruItem[V any] struct {
	key string
	val V
}

func newLRU[V any](max int) *lru[V] {
	return &lru[V]{max: max, items: map[string]*list.Element{}, order: list.New()}
}

func (l *lru[V]) get(key string) (V, bool) {
	e, ok := l.items[key]
	if !ok {
		var zero V
		return zero, false
	}
	l.order.MoveToBack(e)
	return e.Value.(*lruItem[V]).val, true
}

func (l *lru[V]) put(key string, v V) {
	if e, ok := l.items[key]; ok {
		e.Value.(*lruItem[V]).val = v
		l.order.MoveToBack(e)
		return
	}
	for l.order.Len() >= l.max {
		e := l.order.Front()
		delete(l.items, e.Value.(*lruItem[V]).key)
		l.order.Remove(e)
	}
	l.items[key] = l.order.PushBack(&lruItem[V]{key: key, val: v})
}

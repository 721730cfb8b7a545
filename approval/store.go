package approval

import "context"

// Store keeps proposals durably. Update is the only way to change one: it
// reads the proposal, runs fn on a private copy and, if fn returns nil,
// writes the copy back, all in one transaction that excludes any other
// Update of the same proposal (in every process sharing the store). If fn
// returns an error nothing is written and Update returns that error.
type Store interface {
	// Create stores a new proposal. It fails with ErrExists for a known id
	// and ErrDuplicateKey when an open proposal already has p.Key. fn, if
	// not nil, runs inside the transaction after those checks; its error
	// aborts the creation.
	Create(ctx context.Context, p *Proposal, fn func(p *Proposal) error) error
	Get(ctx context.Context, id string) (*Proposal, error)
	List(ctx context.Context, f Filter) ([]*Proposal, error)
	Update(ctx context.Context, id string, fn func(p *Proposal) error) (*Proposal, error)
	Close() error
}

// Filter selects proposals for List; zero fields match everything.
type Filter struct {
	Policy string
	States []State
}

func (f Filter) match(p *Proposal) bool {
	if f.Policy != "" && p.Policy != f.Policy {
		return false
	}
	if len(f.States) == 0 {
		return true
	}
	for _, s := range f.States {
		if p.State == s {
			return true
		}
	}
	return false
}

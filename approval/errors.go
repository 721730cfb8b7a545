package approval

import "errors"

// Sentinel errors; callers branch on them with errors.Is. Every one of them
// leaves the proposal unchanged.
var (
	ErrNotFound          = errors.New("proposal not found")
	ErrNotApprover       = errors.New("not an approver for this proposal")
	ErrSelfApproval      = errors.New("the requester cannot approve their own proposal")
	ErrDuplicateApprover = errors.New("already approved by this approver")
	ErrExpired           = errors.New("approval window expired")
	ErrAlreadyDecided    = errors.New("proposal already decided")
	ErrReasonRequired    = errors.New("a reason is required")
	ErrInvalidProposal   = errors.New("invalid proposal")
	ErrWrongState        = errors.New("proposal is not in a state that allows this")
	ErrDuplicateKey      = errors.New("an open proposal with the same key exists")
	ErrExists            = errors.New("proposal id already exists")
	// ErrUnknownOutcome marks an action that was started but whose result
	// was never journalled (the process died during the call). It is not
	// retried: someone, or a Checker, must look at the live system first.
	ErrUnknownOutcome = errors.New("unknown outcome — needs check")
)

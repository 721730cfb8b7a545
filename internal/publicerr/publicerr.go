// Package publicerr carries an error's public message apart from its
// detail. What HTTP, Slack and chat show a user is the public message,
// written for them and vetted; the wrapped detail (file paths, SQL,
// provider responses, stack of wrapped causes) goes only to the log.
// Anything that is not a public error reaches a user as a generic
// message, so a new internal failure cannot leak by default.
package publicerr

import "errors"

// Error is an error with a message meant for the user. Error() is the
// detail, for logs; UserMessage is the public message.
type Error struct {
	msg string
	err error
}

// New returns a public error whose message is also its detail.
func New(msg string) error { return &Error{msg: msg} }

// Wrap returns err with msg as the message users see. errors.Is and
// errors.As see through it to err.
func Wrap(msg string, err error) error { return &Error{msg: msg, err: err} }

// Error returns the detail: the wrapped error's text, else the message.
func (e *Error) Error() string {
	if e.err == nil {
		return e.msg
	}
	return e.err.Error()
}

// Unwrap returns the wrapped detail.
func (e *Error) Unwrap() error { return e.err }

// UserMessage returns the public message. Any error type with this
// method is public (workflow.AnswerRefusal is one).
func (e *Error) UserMessage() string { return e.msg }

// public is what Message looks for in a chain.
type public interface{ UserMessage() string }

// Message returns the first public message in err's chain, and whether
// there is one.
func Message(err error) (string, bool) {
	var p public
	if errors.As(err, &p) {
		return p.UserMessage(), true
	}
	return "", false
}

// MessageOr returns err's public message, else fallback (a generic
// message pointing at the log).
func MessageOr(err error, fallback string) string {
	if m, ok := Message(err); ok {
		return m
	}
	return fallback
}

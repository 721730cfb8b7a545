package server

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/steward-oss/steward/internal/publicerr"
)

// Problem is an RFC 9457 problem detail with Steward's code and the
// request id for finding the log line.
type Problem struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Code      string `json:"code"`
	Detail    string `json:"detail,omitempty"`
	RequestID string `json:"request_id"`
}

// problemError is an error carrying what the client may see.
type problemError struct {
	status int
	code   string
	detail string
}

func (e *problemError) Error() string { return fmt.Sprintf("%d %s: %s", e.status, e.code, e.detail) }

func problem(status int, code, detail string) error {
	return &problemError{status: status, code: code, detail: detail}
}

// handleError renders every error as problem+json. A 4xx detail is the
// vetted message; a 5xx detail stays in the log, the client gets the
// request id and, when the error carries one, its public message
// (internal/publicerr), never the wrapped detail.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	rid := requestID(c)
	p := Problem{Type: "about:blank", RequestID: rid}
	var pe *problemError
	var he *echo.HTTPError
	switch {
	case errors.As(err, &pe):
		p.Status, p.Code, p.Detail = pe.status, pe.code, pe.detail
	case errors.As(err, &he):
		p.Status = he.Code
		p.Code = codeFor(he.Code)
		p.Detail = fmt.Sprint(he.Message)
	default:
		p.Status, p.Code = http.StatusInternalServerError, "internal"
	}
	if route := c.Path(); p.Status == http.StatusNotFound && (route == "" || strings.HasSuffix(route, "/*")) {
		// No route matched; maybe only the method is wrong.
		if allow := s.allowed(c.Request()); len(allow) > 0 {
			c.Response().Header().Set("Allow", strings.Join(allow, ", "))
			p.Status, p.Code, p.Detail = http.StatusMethodNotAllowed, "method_not_allowed", c.Request().Method+" is not allowed here; use "+strings.Join(allow, " or ")
		}
	}
	if p.Status == http.StatusUnauthorized {
		c.Response().Header().Set("WWW-Authenticate", `Bearer realm="steward"`)
	}
	p.Detail = cleanDetail(p.Detail)
	if p.Status >= 500 {
		s.cfg.Logger.Error("request failed", "request_id", rid, "path", c.Path(), "err", err)
		p.Detail = ""
		if msg, ok := publicerr.Message(err); ok && pe == nil {
			p.Detail = cleanDetail(msg)
		}
	}
	p.Title = http.StatusText(p.Status)
	c.Response().Header().Set(echo.HeaderContentType, "application/problem+json")
	c.Response().WriteHeader(p.Status)
	_ = c.JSON(p.Status, p)
}

func codeFor(status int) string {
	switch status {
	case http.StatusNotFound:
		return "not_found"
	case http.StatusMethodNotAllowed:
		return "method_not_allowed"
	case http.StatusRequestEntityTooLarge:
		return "too_large"
	case http.StatusUnauthorized:
		return "unauthenticated"
	case http.StatusBadRequest:
		return "bad_request"
	case http.StatusUnsupportedMediaType:
		return "unsupported_media_type"
	case http.StatusForbidden:
		return "forbidden"
	case http.StatusTooManyRequests:
		return "rate_limited"
	}
	if status >= 500 {
		return "internal"
	}
	return "error"
}

func requestID(c echo.Context) string {
	if id := c.Response().Header().Get(echo.HeaderXRequestID); id != "" {
		return id
	}
	return c.Request().Header.Get(echo.HeaderXRequestID)
}

package server

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/steward-oss/steward/findings"
	"github.com/steward-oss/steward/graph"
)

// FindingsReporter runs the standing checks (a *findings.Checker).
type FindingsReporter interface {
	Select(id string) ([]*findings.Check, error)
	Report(ctx context.Context, ix *graph.Index, now time.Time, check string) (*findings.Report, error)
}

var _ FindingsReporter = (*findings.Checker)(nil)

// findings is GET /v1/findings[?check=ID].
func (s *Server) findings(c echo.Context) error {
	r := s.cfg.Findings
	if r == nil {
		r = findings.New(findings.Options{})
	}
	check := c.QueryParam("check")
	if _, err := r.Select(check); err != nil {
		return problem(http.StatusBadRequest, "unknown_check", err.Error())
	}
	rep, err := r.Report(c.Request().Context(), s.cfg.Graph.Index(), s.cfg.Now(), check)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, rep)
}

package review

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/steward-oss/steward/audit"
	"github.com/steward-oss/steward/server"
)

// API serves the review routes (all authenticated):
//
//	GET  /v1/reviews                            launched campaigns with their summaries
//	POST /v1/reviews                            launch: the body is a campaign file (YAML or JSON)
//	GET  /v1/reviews/{id}                       the campaign with every item
//	GET  /v1/reviews/{id}/report?format=F       json (default), csv or html (the evidence report)
//	POST /v1/reviews/{id}/items/{item}/decision {"decision","justification","until","to"}
//
// A decision is a person's: the request must act as an e-mail principal
// (server.Actor), never as a bare API key name, because review rules
// name people (see principal). Refusals are problem+json 403/409 and audited.
type API struct {
	svc *Service
	log *slog.Logger
}

// NewAPI returns the routes over svc.
func NewAPI(svc *Service, log *slog.Logger) *API {
	if log == nil {
		log = slog.Default()
	}
	return &API{svc: svc, log: log.With("component", "review-http")}
}

// Handlers are the route handlers for server/routes.go, which holds the
// paths, methods and roles (server.Config.Reviews).
func (a *API) Handlers() *server.ReviewHandlers {
	return &server.ReviewHandlers{List: a.list, Launch: a.launch, Get: a.get, Report: a.report, Decide: a.decide}
}

func (a *API) list(c echo.Context) error {
	ins, err := a.svc.List(c.Request().Context())
	if err != nil {
		return err
	}
	out := make([]*Summary, len(ins))
	for i, in := range ins {
		out[i] = Summarize(in, a.svc.now())
	}
	return c.JSON(http.StatusOK, out)
}

func (a *API) launch(c echo.Context) error {
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return server.NewProblem(http.StatusBadRequest, "bad_request", "request body: "+err.Error())
	}
	camp, err := ParseCampaign("request body", body)
	if err != nil {
		return server.NewProblem(http.StatusBadRequest, "invalid_campaign", err.Error())
	}
	camp.File = ""
	in, err := a.svc.Launch(c.Request().Context(), camp, Actor{ID: server.Actor(c), Where: audit.WhereHTTP})
	if err != nil {
		if errors.Is(err, ErrInvalid) {
			return server.NewProblem(http.StatusBadRequest, "invalid_campaign", err.Error())
		}
		return err
	}
	return c.JSON(http.StatusCreated, in)
}

func (a *API) get(c echo.Context) error {
	in, err := a.svc.Get(c.Request().Context(), c.Param("id"))
	if err != nil {
		return problemOf(err)
	}
	return c.JSON(http.StatusOK, in)
}

func (a *API) report(c echo.Context) error {
	in, err := a.svc.Get(c.Request().Context(), c.Param("id"))
	if err != nil {
		return problemOf(err)
	}
	r := NewReport(in, a.svc.now())
	w := c.Response()
	switch f := c.QueryParam("format"); f {
	case "", "json":
		return c.JSON(http.StatusOK, r)
	case "csv":
		w.Header().Set(echo.HeaderContentType, "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", in.ID+".csv"))
		w.WriteHeader(http.StatusOK)
		return r.WriteCSV(w)
	case "html":
		w.Header().Set(echo.HeaderContentType, "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
		w.WriteHeader(http.StatusOK)
		return r.WriteHTML(w)
	default:
		return server.NewProblem(http.StatusBadRequest, "bad_request", fmt.Sprintf("format: %q is not json, csv or html", f))
	}
}

type decisionBody struct {
	Decision      DecisionKind `json:"decision"`
	Justification string       `json:"justification"`
	Until         string       `json:"until"`
	To            string       `json:"to"`
}

func (a *API) decide(c echo.Context) error {
	who := principal(c)
	if who == "" {
		return server.NewProblem(http.StatusForbidden, "principal_required",
			"a review decision is a person's: use an API key that acts as a person with an e-mail")
	}
	var b decisionBody
	if err := c.Bind(&b); err != nil {
		return server.NewProblem(http.StatusBadRequest, "bad_request", "body: want {\"decision\",\"justification\",\"until\",\"to\"}")
	}
	in := Input{Kind: b.Decision, Justification: b.Justification, To: b.To}
	if b.Until != "" {
		t, err := parseDue(b.Until)
		if err != nil {
			return server.NewProblem(http.StatusBadRequest, "bad_request", "until: "+err.Error())
		}
		in.Until = t
	}
	_, it, err := a.svc.Decide(c.Request().Context(), c.Param("id"), c.Param("item"), in, Actor{ID: who, Where: audit.WhereHTTP})
	if err != nil {
		return problemOf(err)
	}
	return c.JSON(http.StatusOK, it)
}

// principal is the e-mail the request acts as, "" when it acts as a bare
// key. A key acts as a person when the configuration names it for them:
// its name is their e-mail ("api:alice@example.com"), or the server
// resolved it to their e-mail.
func principal(c echo.Context) string {
	who := strings.TrimPrefix(server.Actor(c), "api:")
	if !strings.Contains(who, "@") || strings.ContainsAny(who, " :/") {
		return ""
	}
	return strings.ToLower(who)
}

// problemOf maps the review sentinels to HTTP.
func problemOf(err error) error {
	switch {
	case errors.Is(err, ErrNotFound):
		return server.NewProblem(http.StatusNotFound, "not_found", rootCause(err))
	case errors.Is(err, ErrNotReviewer), errors.Is(err, ErrSelfReview):
		return server.NewProblem(http.StatusForbidden, "refused", rootCause(err))
	case errors.Is(err, ErrClosed), errors.Is(err, ErrAlreadyDecided):
		return server.NewProblem(http.StatusConflict, "refused", rootCause(err))
	case errors.Is(err, ErrJustificationRequired):
		return server.NewProblem(http.StatusBadRequest, "justification_required", rootCause(err))
	case errors.Is(err, ErrBadDecision):
		return server.NewProblem(http.StatusBadRequest, "bad_decision", clip(err.Error(), 500))
	}
	return err
}

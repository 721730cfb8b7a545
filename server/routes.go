package server

import (
	"net/http"
	"sort"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// routes is the one place that lists every route and its auth.
func (s *Server) routes() {
	e := s.e
	e.Use(middleware.RequestID())
	e.Use(securityHeaders)
	e.Use(middleware.Recover())
	e.Use(limitConcurrency(s.cfg.MaxConcurrent))
	e.Use(middleware.BodyLimit(s.cfg.MaxBody))
	e.Use(s.metrics.middleware)

	// Unauthenticated: liveness only.
	e.GET("/healthz", s.healthz)
	// The web console's login page and static assets (package web); its
	// pages call the API below with their session cookie.
	if s.cfg.Web != nil {
		s.cfg.Web.Routes(e, s.verifyKey)
	}

	// Authenticated: each route's role is RequiredRole's (GET: reader;
	// chat, query: reader; review decisions: approver; any other change:
	// admin).
	api := e.Group("", s.authenticate)
	api.GET("/metrics", echo.WrapHandler(promhttp.HandlerFor(s.cfg.Registry, promhttp.HandlerOpts{})))
	api.GET("/v1/openapi.json", s.openapi)
	api.POST("/v1/chat", s.chat)
	api.GET("/v1/conversations/:id", s.conversation)
	api.POST("/v1/query", s.query)
	api.GET("/v1/findings", s.findings) // read-only: the reader role
	api.GET("/v1/identities/:id", s.identity)
	api.GET("/v1/overview", s.overview)
	// Remediation (package workflow): proposals, policies, owners.
	if w := s.cfg.Workflow; w != nil {
		mount(api, http.MethodGet, "/v1/proposals", w.ListProposals)
		mount(api, http.MethodGet, "/v1/proposals/:id", w.GetProposal)
		mount(api, http.MethodGet, "/v1/proposals/:id/preview", w.Preview)
		mount(api, http.MethodPost, "/v1/proposals/:id/approve", w.Approve)
		mount(api, http.MethodPost, "/v1/proposals/:id/reject", w.Reject)
		mount(api, http.MethodGet, "/v1/policies", w.ListPolicies)
		mount(api, http.MethodPut, "/v1/policies/:name", w.PutPolicy)
		mount(api, http.MethodDelete, "/v1/policies/:name", w.DeletePolicy)
		mount(api, http.MethodGet, "/v1/owners", w.ListOwners)
		mount(api, http.MethodPut, "/v1/owners/:identity", w.PutOwner)
		mount(api, http.MethodDelete, "/v1/owners/:identity", w.DeleteOwner)
	}
	// Access reviews (package review).
	if r := s.cfg.Reviews; r != nil {
		mount(api, http.MethodGet, "/v1/reviews", r.List)
		mount(api, http.MethodPost, "/v1/reviews", r.Launch)
		mount(api, http.MethodGet, "/v1/reviews/:id", r.Get)
		mount(api, http.MethodGet, "/v1/reviews/:id/report", r.Report)
		mount(api, http.MethodPost, "/v1/reviews/:id/items/:item/decision", r.Decide)
	}
	// Slack's HTTP mode (package slackbot): outside the API-key group,
	// because Slack authenticates each request by its signature, which
	// the handlers verify before anything else.
	if sl := s.cfg.Slack; sl != nil {
		mount(e, http.MethodPost, "/slack/events", sl.Events)
		mount(e, http.MethodPost, "/slack/interactivity", sl.Interactivity)
		mount(e, http.MethodPost, "/slack/commands", sl.Commands)
	}
}

// WorkflowHandlers serve the remediation routes (workflow.API.Handlers).
type WorkflowHandlers struct {
	ListProposals, GetProposal, Preview, Approve, Reject echo.HandlerFunc
	ListPolicies, PutPolicy, DeletePolicy                echo.HandlerFunc
	ListOwners, PutOwner, DeleteOwner                    echo.HandlerFunc
}

// ReviewHandlers serve the access-review routes (review.API.Handlers).
type ReviewHandlers struct {
	List, Launch, Get, Report, Decide echo.HandlerFunc
}

// SlackHandlers serve the Slack app's Request URLs in HTTP mode
// (slackbot.Bot.Handlers).
type SlackHandlers struct {
	Events, Interactivity, Commands echo.HandlerFunc
}

// router is what mount adds a route to: the root or a group.
type router interface {
	Add(method, path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route
}

// mount adds the route when its handler is set; a group's unset handler
// (a test serving part of it) has no route, so it answers 404.
func mount(r router, method, path string, h echo.HandlerFunc) {
	if h != nil {
		r.Add(method, path, h)
	}
}

// Routes lists the routes served, as "METHOD /path" in echo's pattern
// form, for the documentation checks (every route is in openapi.json).
func (s *Server) Routes() []string {
	var out []string
	for _, r := range s.e.Routes() {
		if strings.HasPrefix(r.Method, "echo_") || strings.HasSuffix(r.Path, "/*") {
			continue
		}
		out = append(out, r.Method+" "+r.Path)
	}
	sort.Strings(out)
	return out
}

package server

import (
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
	// Extra: Slack (slackbot), proposals/policies/owners (workflow) and
	// access reviews (review.API: /v1/reviews…), each authenticated here.
	for _, add := range s.cfg.Extra {
		add(api, e)
	}
}

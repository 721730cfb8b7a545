package server

import "github.com/labstack/echo/v4"

// NewProblem returns an error the server renders as problem+json with status,
// code and detail, for the handlers of other packages (Config.Workflow, …). A
// 5xx detail is still kept out of the response.
func NewProblem(status int, code, detail string) error { return problem(status, code, detail) }

// Actor is who the authenticated request acts as (the key holder's e-mail,
// else "api:<key name>"), for the handlers of other packages mounted in
// the authenticated group; "" outside it.
func Actor(c echo.Context) string { return actor(c) }

package server

import "github.com/labstack/echo/v4"

// NewProblem returns an error the server renders as problem+json with status,
// code and detail, for routes other packages add through Config.Extra. A
// 5xx detail is still kept out of the response.
func NewProblem(status int, code, detail string) error { return problem(status, code, detail) }

// Actor is who the authenticated request acts as (the key holder's e-mail,
// else "api:<key name>"), for
// routes other packages add to the authenticated group; "" outside it.
func Actor(c echo.Context) string { return actor(c) }

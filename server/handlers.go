package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/steward-oss/steward/audit"
	"github.com/steward-oss/steward/chat"
	"github.com/steward-oss/steward/internal/publicerr"
	"github.com/steward-oss/steward/query"
)

func (s *Server) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// ChatRequest is the body of POST /v1/chat.
type ChatRequest struct {
	Message        string `json:"message"`
	ConversationID string `json:"conversation_id,omitempty"`
	Stream         bool   `json:"stream,omitempty"`
}

const maxMessage = 4000

func decodeStrict(c echo.Context, v any) error {
	if ct := c.Request().Header.Get(echo.HeaderContentType); ct != "" && !strings.HasPrefix(ct, echo.MIMEApplicationJSON) {
		return problem(http.StatusUnsupportedMediaType, "unsupported_media_type", "send application/json")
	}
	dec := json.NewDecoder(c.Request().Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *echo.HTTPError
		if errors.As(err, &tooBig) {
			return tooBig
		}
		if errors.Is(err, io.EOF) {
			return problem(http.StatusBadRequest, "bad_request", "empty body")
		}
		return problem(http.StatusBadRequest, "bad_request", "invalid JSON: "+jsonError(err))
	}
	if dec.More() {
		return problem(http.StatusBadRequest, "bad_request", "invalid JSON: more than one value")
	}
	return nil
}

func (s *Server) chat(c echo.Context) error {
	var req ChatRequest
	if err := decodeStrict(c, &req); err != nil {
		return err
	}
	req.Message = strings.TrimSpace(req.Message)
	switch {
	case req.Message == "":
		return problem(http.StatusBadRequest, "bad_request", "message is required")
	case len(req.Message) > maxMessage:
		return problem(http.StatusBadRequest, "bad_request", fmt.Sprintf("message longer than %d bytes", maxMessage))
	}
	if s.cfg.Chatter == nil {
		return problem(http.StatusServiceUnavailable, "unavailable", "no agent configured")
	}
	stream := req.Stream || strings.Contains(c.Request().Header.Get("Accept"), "text/event-stream")
	if stream {
		return s.chatStream(c, req)
	}
	ans, err := s.cfg.Chatter.Chat(c.Request().Context(), req.ConversationID, actor(c), req.Message, nil)
	s.metrics.question(err)
	if err != nil {
		s.metrics.chats.WithLabelValues("error").Inc()
		return chatError(err)
	}
	s.metrics.chats.WithLabelValues("answered").Inc()
	return c.JSON(http.StatusOK, ans)
}

// chatError maps a chat error to a problem: a public error (internal/
// publicerr: a question the planner could not map, an unknown identity, a
// budget exhausted) shows its public message, never its detail.
func chatError(err error) error {
	if msg, ok := publicerr.Message(err); ok {
		return problem(http.StatusUnprocessableEntity, "not_answerable", msg)
	}
	if errors.Is(err, chat.ErrNotFound) {
		return problem(http.StatusNotFound, "not_found", "no such conversation")
	}
	return err
}

// chatStream sends each step as an SSE "step" event, then the answer as an
// "answer" event (or an "error" event).
func (s *Server) chatStream(c echo.Context, req ChatRequest) error {
	w := c.Response()
	w.Header().Set(echo.HeaderContentType, "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	send := func(event string, v any) {
		b, _ := json.Marshal(v)
		fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, b)
		w.Flush()
	}
	ans, err := s.cfg.Chatter.Chat(c.Request().Context(), req.ConversationID, actor(c), req.Message, func(st chat.Step) { send("step", st) })
	s.metrics.question(err)
	if err != nil {
		s.metrics.chats.WithLabelValues("error").Inc()
		p := Problem{Status: http.StatusInternalServerError, Code: "internal", RequestID: requestID(c)}
		if msg, ok := publicerr.Message(err); ok {
			p.Status, p.Code, p.Detail = http.StatusUnprocessableEntity, "not_answerable", msg
		} else {
			s.cfg.Logger.Error("chat failed", "request_id", p.RequestID, "err", err)
		}
		p.Title = http.StatusText(p.Status)
		send("error", p)
		return nil
	}
	s.metrics.chats.WithLabelValues("answered").Inc()
	send("answer", ans)
	return nil
}

func (s *Server) conversation(c echo.Context) error {
	if s.cfg.Chatter == nil {
		return problem(http.StatusServiceUnavailable, "unavailable", "no agent configured")
	}
	conv, err := s.cfg.Chatter.Conversation(c.Request().Context(), c.Param("id"), actor(c))
	if err != nil {
		return chatError(err)
	}
	return c.JSON(http.StatusOK, conv)
}

// QueryRequest is the body of POST /v1/query.
type QueryRequest struct {
	Plan json.RawMessage `json:"plan"`
}

// QueryResponse is the reply of POST /v1/query.
type QueryResponse struct {
	Plan     *query.Plan       `json:"plan"`
	Columns  []string          `json:"columns"`
	Rows     [][]any           `json:"rows"`
	Evidence [][]query.EdgeRef `json:"evidence"`
	Total    int               `json:"total"`
}

func (s *Server) query(c echo.Context) error {
	var req QueryRequest
	if err := decodeStrict(c, &req); err != nil {
		return err
	}
	if len(req.Plan) == 0 {
		return problem(http.StatusBadRequest, "bad_request", "plan is required")
	}
	p, err := query.Parse(req.Plan)
	if err != nil {
		return problem(http.StatusBadRequest, "invalid_plan", err.Error())
	}
	if p.Changes != nil {
		// The change history is read by the agent's list_changes tool.
		return problem(http.StatusBadRequest, "invalid_plan", "query: plan.changes: a change plan reads the change history: ask it through POST /v1/chat")
	}
	res, err := query.Execute(c.Request().Context(), s.cfg.Graph.Index(), p, s.cfg.Now())
	if aerr := s.auditPlan(c, p, res, err); aerr != nil {
		return aerr
	}
	if err != nil {
		var ee *query.EntityError
		if errors.As(err, &ee) {
			return problem(http.StatusUnprocessableEntity, "unknown_entity", ee.Error())
		}
		return err
	}
	return c.JSON(http.StatusOK, QueryResponse{Plan: res.Plan, Columns: res.Columns, Rows: res.Rows, Evidence: res.Evidence, Total: res.Total})
}

// auditPlan records a plan run: who, the plan, how many rows or why not.
// A record that cannot be written fails the request (a 500 whose detail
// stays in the log).
func (s *Server) auditPlan(c echo.Context, p *query.Plan, res *query.Result, qerr error) error {
	if s.cfg.Audit == nil {
		return nil
	}
	rec := audit.Record{Actor: actor(c), Action: audit.ActionPlan, Target: "query", Where: audit.WhereHTTP, Outcome: "answered",
		Details: map[string]string{"request_id": requestID(c)}}
	if b, err := json.Marshal(p); err == nil {
		rec.Details["plan"] = string(b)
	}
	if res != nil {
		rec.Details["rows"] = strconv.Itoa(res.Total)
	}
	if qerr != nil {
		rec.Outcome, rec.Details["error"] = "error", qerr.Error()
	}
	if _, err := s.cfg.Audit.Append(context.WithoutCancel(c.Request().Context()), audit.MaskRecord(rec)); err != nil {
		return fmt.Errorf("server: audit plan run: %w", err)
	}
	return nil
}

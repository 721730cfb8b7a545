package server

import (
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/steward-oss/steward/internal/publicerr"
)

type metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	chats    *prometheus.CounterVec
	// questions counts questions by outcome: answered, refused (not
	// answerable: the planner or agent declined), error.
	questions *prometheus.CounterVec
}

func newMetrics(reg *prometheus.Registry) *metrics {
	m := &metrics{
		requests:  prometheus.NewCounterVec(prometheus.CounterOpts{Name: "steward_http_requests_total", Help: "HTTP requests by route and status."}, []string{"route", "code"}),
		latency:   prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "steward_http_request_duration_seconds", Help: "HTTP request latency by route.", Buckets: prometheus.DefBuckets}, []string{"route"}),
		chats:     prometheus.NewCounterVec(prometheus.CounterOpts{Name: "steward_chat_answers_total", Help: "Chat answers by outcome."}, []string{"outcome"}),
		questions: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "steward_questions_total", Help: "Questions asked over HTTP by outcome (answered, refused, error)."}, []string{"outcome"}),
	}
	reg.MustRegister(m.requests, m.latency, m.chats, m.questions)
	return m
}

func (m *metrics) middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		status := c.Response().Status
		if err != nil {
			status = statusOf(err)
		}
		route := c.Path()
		m.requests.WithLabelValues(route, strconv.Itoa(status)).Inc()
		m.latency.WithLabelValues(route).Observe(time.Since(start).Seconds())
		return err
	}
}

func statusOf(err error) int {
	switch e := err.(type) {
	case *problemError:
		return e.status
	case *echo.HTTPError:
		return e.Code
	}
	return 500
}

// question counts one question by the outcome err gives it.
func (m *metrics) question(err error) {
	_, public := publicerr.Message(err)
	switch {
	case err == nil:
		m.questions.WithLabelValues("answered").Inc()
	case public:
		m.questions.WithLabelValues("refused").Inc()
	default:
		m.questions.WithLabelValues("error").Inc()
	}
}

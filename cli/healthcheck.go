package cli

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"time"
)

func init() {
	register(command{"healthcheck", "probe a running steward's /healthz (for container HEALTHCHECKs: the image has no shell)", runHealthcheck})
}

func runHealthcheck(ctx context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
	url := fs.String("url", "http://127.0.0.1:8080/healthz", "health URL to GET")
	timeout := fs.Duration("timeout", 3*time.Second, "give up after this long")
	if code, ok := parseFlags(fs, e, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		return usageErr(e, "healthcheck", fmt.Sprintf("unexpected argument %q", fs.Arg(0)))
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, *url, nil)
	if err != nil {
		return usageErr(e, "healthcheck", err.Error())
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fail(e, "healthcheck", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fail(e, "healthcheck", fmt.Errorf("%s: %s", *url, resp.Status))
	}
	fmt.Fprintf(e.stdout, "%s: ok\n", *url)
	return ExitOK
}

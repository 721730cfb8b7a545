//go:build imagetest

package deploy

import (
	"bytes"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The Dockerfile's final stage, built FROM scratch with buildah from a
// locally built static binary (no registry is reachable for the build
// stage), runs --version and serve --demo answers /healthz inside it.
// Gated by the imagetest build tag, not a skip:
//
//	apt-get install -y buildah && go test -tags imagetest ./deploy/
func TestImageFromScratch(t *testing.T) {
	if _, err := exec.LookPath("buildah"); err != nil {
		t.Fatal("buildah not installed (apt-get install -y buildah)")
	}
	ctxDir := t.TempDir()
	build := exec.Command("go", "build", "-trimpath", "-o", filepath.Join(ctxDir, "steward"), "../cmd/steward")
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	certs, err := os.ReadFile("/etc/ssl/certs/ca-certificates.crt")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(ctxDir, "ca-certificates.crt"), certs, 0o644)
	os.MkdirAll(filepath.Join(ctxDir, "var/lib/steward"), 0o755)
	os.MkdirAll(filepath.Join(ctxDir, "tmp"), 0o755)
	df, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	i := strings.LastIndex(string(df), "\nFROM ")
	final := string(df)[i+1:]
	if !strings.HasPrefix(final, "FROM scratch") || !strings.Contains(final, "\nUSER 65532") {
		t.Fatalf("final stage is not FROM scratch with a non-root USER:\n%s", final)
	}
	final = strings.NewReplacer("--from=build ", "", "/etc/ssl/certs/ca-certificates.crt /etc", "ca-certificates.crt /etc",
		"/out/var/lib/steward", "var/lib/steward", "/out/tmp", "tmp", "/out/steward", "steward").Replace(final)
	os.WriteFile(filepath.Join(ctxDir, "Containerfile"), []byte(final), 0o644)
	bah := func(args ...string) *exec.Cmd {
		return exec.Command("buildah", append([]string{"--storage-driver", "vfs"}, args...)...)
	}
	tag := "localhost/steward:imagetest"
	if out, err := bah("bud", "--isolation", "chroot", "-f", filepath.Join(ctxDir, "Containerfile"), "-t", tag, ctxDir).CombinedOutput(); err != nil {
		t.Fatalf("buildah bud: %v\n%s", err, out)
	}
	out, err := bah("from", tag).Output()
	if err != nil {
		t.Fatalf("buildah from: %v", err)
	}
	ctr := strings.TrimSpace(string(out))
	defer bah("rm", ctr).Run()
	ver, err := bah("run", "--isolation", "chroot", ctr, "--", "/usr/local/bin/steward", "--version").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(ver), "steward ") {
		t.Fatalf("--version in the image: %v %s", err, ver)
	}
	uid, _ := bah("inspect", "--format", "{{.OCIv1.Config.User}}", tag).Output()
	if strings.TrimSpace(string(uid)) != "65532:65532" {
		t.Fatalf("image user %q", uid)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	var serveOut bytes.Buffer
	serve := bah("run", "--isolation", "chroot", "--env", "STEWARD_API_KEYS=image-key", "--env", "STEWARD_AUDIT_LOG=/tmp/audit.log",
		"--workingdir", "/tmp", ctr, "--", "/usr/local/bin/steward", "serve", "--demo", "--size", "300", "--listen", addr)
	serve.Stdout, serve.Stderr = &serveOut, &serveOut
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		serve.Process.Kill()
		serve.Wait()
	}()
	deadline := time.Now().Add(90 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve --demo in the image never answered /healthz:\n%s", serveOut.String())
		}
		<-time.After(200 * time.Millisecond) // waiting for the process to listen, not timing an assertion
	}
	hc, err := bah("run", "--isolation", "chroot", ctr, "--", "/usr/local/bin/steward", "healthcheck", "--url", "http://"+addr+"/healthz").CombinedOutput()
	if err != nil {
		t.Fatalf("steward healthcheck in the image: %v %s", err, hc)
	}
}

// Command tenantry-load measures the token endpoint under load: it starts
// tenantry's HTTP server in a child process (plain HTTP on loopback, as
// the peers' figures were measured), drives client-credentials requests at
// it with keep-alive connections, and reports tokens per second, p50 and
// p99 latency and the server's CPU time per token, beside the in-process
// issuance cost and the raw signature measured by the child in the same
// run.
//
//	go run ./cmd/tenantry-load -alg RS256 -c 8 -d 10s
//
// The server's CPU time is read from /proc (Linux).
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"time"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "-serve" {
		if err := serve(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "tenantry-load:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "tenantry-load:", err)
		os.Exit(1)
	}
}

// ready is what the child tells the parent once it serves.
type ready struct {
	URL        string  `json:"url"`
	Form       string  `json:"form"`
	PID        int     `json:"pid"`
	RawSignUS  float64 `json:"raw_sign_us"`
	InProcUS   float64 `json:"in_process_us"`
	Algorithm  string  `json:"alg"`
	GOMAXPROCS int     `json:"gomaxprocs"`
}

func run(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("tenantry-load", flag.ContinueOnError)
	alg := fs.String("alg", "RS256", "signing algorithm: RS256, ES256 or EdDSA")
	conc := fs.Int("c", 8, "concurrent connections")
	dur := fs.Duration("d", 10*time.Second, "duration of the load")
	warm := fs.Duration("warmup", 2*time.Second, "warm-up before measuring")
	clientKind := fs.String("client", "raw", "load generator: raw (lean keep-alive connections) or http (net/http's client)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	child := exec.Command(self, "-serve", "-alg", *alg)
	child.Stderr = os.Stderr
	stdout, err := child.StdoutPipe()
	if err != nil {
		return err
	}
	if err := child.Start(); err != nil {
		return err
	}
	defer func() { _ = child.Process.Kill(); _ = child.Wait() }()
	var r ready
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		return fmt.Errorf("the server did not start: %w", err)
	}
	if err := json.Unmarshal([]byte(line), &r); err != nil {
		return err
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *conc, MaxConnsPerHost: *conc}}
	drive := func(d time.Duration) ([]time.Duration, time.Duration, int, error) {
		if *clientKind == "http" {
			lat, elapsed, failures := load(client, r, *conc, d)
			return lat, elapsed, failures, nil
		}
		return rawLoad(r, *conc, d)
	}
	if *clientKind != "http" && *clientKind != "raw" {
		return fmt.Errorf("-client must be raw or http, not %q", *clientKind)
	}
	if _, _, _, err := drive(*warm); err != nil {
		return err
	}
	cpu0, err := processCPU(r.PID)
	if err != nil {
		return err
	}
	lat, elapsed, failures, err := drive(*dur)
	if err != nil {
		return err
	}
	cpu1, err := processCPU(r.PID)
	if err != nil {
		return err
	}
	if len(lat) == 0 {
		return fmt.Errorf("no token was issued (%d failures)", failures)
	}
	slices.Sort(lat)
	n := float64(len(lat))
	perToken := float64(cpu1-cpu0) / n / 1e3
	fmt.Fprintf(out, "alg %s, %d connections (%s client), %s, server GOMAXPROCS %d\n", r.Algorithm, *conc, *clientKind, *dur, r.GOMAXPROCS)
	fmt.Fprintf(out, "tokens/s            %10.0f   (%d tokens, %d failures)\n", n/elapsed.Seconds(), len(lat), failures)
	fmt.Fprintf(out, "latency p50 / p99   %10s / %s\n", lat[len(lat)/2].Round(time.Microsecond), lat[len(lat)*99/100].Round(time.Microsecond))
	fmt.Fprintf(out, "server CPU/token    %10.1f µs\n", perToken)
	fmt.Fprintf(out, "in-process issuance %10.1f µs   (same process, one goroutine)\n", r.InProcUS)
	fmt.Fprintf(out, "raw signature       %10.1f µs\n", r.RawSignUS)
	fmt.Fprintf(out, "HTTP CPU over in-process issuance: %+.1f µs; server CPU/token ÷ raw signature: %.2f\n", perToken-r.InProcUS, perToken/r.RawSignUS)
	return nil
}

// load sends client-credentials requests on conc connections for d and
// returns the latencies of the tokens issued.
func load(client *http.Client, r ready, conc int, d time.Duration) ([]time.Duration, time.Duration, int) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var mu sync.Mutex
	var all []time.Duration
	failures := 0
	start := time.Now()
	var wg sync.WaitGroup
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			bad := 0
			for ctx.Err() == nil {
				t0 := time.Now()
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, r.URL, strings.NewReader(r.Form))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				resp, err := client.Do(req)
				if err != nil {
					if ctx.Err() == nil {
						bad++
					}
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					bad++
					continue
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			all, failures = append(all, mine...), failures+bad
			mu.Unlock()
		}()
	}
	wg.Wait()
	return all, time.Since(start), failures
}

// processCPU returns the user and system CPU time of process pid.
func processCPU(pid int) (time.Duration, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("reading the server's CPU time (Linux only): %w", err)
	}
	// Fields after the command name (which may hold spaces) in ")".
	_, rest, _ := strings.Cut(string(raw), ") ")
	f := strings.Fields(rest)
	if len(f) < 13 {
		return 0, fmt.Errorf("unexpected /proc/%d/stat", pid)
	}
	var utime, stime int64
	fmt.Sscan(f[11], &utime)
	fmt.Sscan(f[12], &stime)
	const ticks = 100 // USER_HZ on Linux
	return time.Duration(utime+stime) * time.Second / ticks, nil
}

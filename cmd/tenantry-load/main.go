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
// With -store postgres://…, the server runs on store/postgres, in a
// fresh schema (tenantry_load_<pid>) dropped when it exits; the report
// then adds PostgreSQL's CPU time per token (every process named
// postgres on this machine, the server's own backends included, read
// from /proc/<pid>/stat) and the whole machine's (from /proc/stat).
//
//	go run ./cmd/tenantry-load -alg ES256 -store 'postgres://postgres@127.0.0.1:5432/test?sslmode=disable'
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
	storeURL := fs.String("store", "memory", "the server's store: memory, or a PostgreSQL URL (postgres://…)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	child := exec.Command(self, "-serve", "-alg", *alg, "-store", *storeURL)
	child.Stderr = os.Stderr
	stdout, err := child.StdoutPipe()
	if err != nil {
		return err
	}
	if err := child.Start(); err != nil {
		return err
	}
	defer stopChild(child)
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
	pg0, mach0 := postgresCPU(), machineCPU()
	lat, elapsed, failures, err := drive(*dur)
	if err != nil {
		return err
	}
	cpu1, err := processCPU(r.PID)
	if err != nil {
		return err
	}
	pg1, mach1 := postgresCPU(), machineCPU()
	if len(lat) == 0 {
		return fmt.Errorf("no token was issued (%d failures)", failures)
	}
	slices.Sort(lat)
	n := float64(len(lat))
	perToken := float64(cpu1-cpu0) / n / 1e3
	fmt.Fprintf(out, "alg %s, store %s, %d connections (%s client), %s, server GOMAXPROCS %d\n", r.Algorithm, storeName(*storeURL), *conc, *clientKind, *dur, r.GOMAXPROCS)
	fmt.Fprintf(out, "tokens/s            %10.0f   (%d tokens, %d failures)\n", n/elapsed.Seconds(), len(lat), failures)
	fmt.Fprintf(out, "latency p50 / p99   %10s / %s\n", lat[len(lat)/2].Round(time.Microsecond), lat[len(lat)*99/100].Round(time.Microsecond))
	fmt.Fprintf(out, "server CPU/token    %10.1f µs\n", perToken)
	if *storeURL != "memory" {
		fmt.Fprintf(out, "PostgreSQL CPU/token%10.1f µs   (every process named postgres)\n", float64(pg1-pg0)/n/1e3)
	}
	if mach1 > mach0 {
		fmt.Fprintf(out, "machine CPU/token   %10.1f µs   (all of /proc/stat: load generator, server, database, anything else)\n", float64(mach1-mach0)/n/1e3)
	}
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

// stopChild asks the server to stop (it drops its PostgreSQL schema on
// the way out) and kills it if it has not within 30 seconds.
func stopChild(child *exec.Cmd) {
	_ = child.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = child.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = child.Process.Kill()
		<-done
	}
}

// storeName is the store named in the report, without the URL's
// credentials.
func storeName(s string) string {
	if s == "memory" {
		return s
	}
	return "PostgreSQL"
}

// postgresCPU returns the CPU time of every process named postgres that
// this user may read (a server's backends, and through its postmaster's
// children's times, the backends that exited), 0 if none.
func postgresCPU() time.Duration {
	ents, _ := os.ReadDir("/proc")
	var total time.Duration
	for _, e := range ents {
		raw, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil || !strings.Contains(string(raw), "(postgres)") {
			continue
		}
		total += statCPU(string(raw), true)
	}
	return total
}

// machineCPU returns the busy CPU time of the whole machine (every
// state of /proc/stat's cpu line but idle and iowait).
func machineCPU() time.Duration {
	raw, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(raw), "\n")
	f := strings.Fields(line)
	var busy int64
	for i, v := range f[1:] {
		if i == 3 || i == 4 { // idle, iowait
			continue
		}
		var x int64
		fmt.Sscan(v, &x)
		busy += x
	}
	const ticks = 100 // USER_HZ on Linux
	return time.Duration(busy) * time.Second / ticks
}

// statCPU returns the user and system CPU time of a /proc/<pid>/stat
// line, with its reaped children's when children is set.
func statCPU(stat string, children bool) time.Duration {
	// Fields after the command name (which may hold spaces) in ")".
	_, rest, _ := strings.Cut(stat, ") ")
	f := strings.Fields(rest)
	if len(f) < 15 {
		return 0
	}
	n := 2
	if children {
		n = 4
	}
	var sum int64
	for _, v := range f[11 : 11+n] {
		var x int64
		fmt.Sscan(v, &x)
		sum += x
	}
	const ticks = 100 // USER_HZ on Linux
	return time.Duration(sum) * time.Second / ticks
}

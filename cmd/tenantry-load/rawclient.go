package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"sync"
	"time"
)

// rawLoad is load with a lean client: one keep-alive connection per
// worker writing the same prepared request and reading the answer's status
// line, headers and Content-Length body by hand, so that the load
// generator, which shares the machine with the server, takes as little
// CPU as it can (net/http's client costs several times more per request).
func rawLoad(r ready, conc int, d time.Duration) ([]time.Duration, time.Duration, int, error) {
	u, err := url.Parse(r.URL)
	if err != nil {
		return nil, 0, 0, err
	}
	req := []byte(fmt.Sprintf("POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n%s",
		u.RequestURI(), u.Host, len(r.Form), r.Form))
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var mu sync.Mutex
	var all []time.Duration
	failures := 0
	var firstErr error
	start := time.Now()
	var wg sync.WaitGroup
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			bad := 0
			conn, err := net.Dial("tcp", u.Host)
			if err != nil {
				mu.Lock()
				firstErr = errors.Join(firstErr, err)
				mu.Unlock()
				return
			}
			defer conn.Close()
			go func() { <-ctx.Done(); conn.SetDeadline(time.Now()) }()
			br := bufio.NewReaderSize(conn, 16<<10)
			for ctx.Err() == nil {
				t0 := time.Now()
				if _, err := conn.Write(req); err != nil {
					break
				}
				status, err := readResponse(br)
				if err != nil {
					if ctx.Err() == nil {
						bad++
					}
					break
				}
				if status != 200 {
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
	return all, time.Since(start), failures, firstErr
}

// readResponse reads one HTTP/1.1 response with a Content-Length body and
// returns its status.
func readResponse(br *bufio.Reader) (int, error) {
	line, err := br.ReadSlice('\n')
	if err != nil {
		return 0, err
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.1 ")) {
		return 0, fmt.Errorf("not an HTTP/1.1 status line: %q", line)
	}
	status, err := strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, err
	}
	length := -1
	for {
		h, err := br.ReadSlice('\n')
		if err != nil {
			return 0, err
		}
		if len(h) <= 2 {
			break
		}
		if name, value, ok := bytes.Cut(h, []byte(":")); ok && bytes.EqualFold(name, []byte("Content-Length")) {
			if length, err = strconv.Atoi(string(bytes.TrimSpace(value))); err != nil {
				return 0, err
			}
		}
	}
	if length < 0 {
		return 0, errors.New("answer without Content-Length")
	}
	_, err = br.Discard(length)
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return status, err
}

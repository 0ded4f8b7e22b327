package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"
)

// W6: many links into one server. The child process is the server node;
// the peers (N links) and a probe (one more link) run in helper processes
// that the child starts from its own binary (-helper), so that the
// server's goroutines, memory and CPU are measured alone, and no process
// holds more than linksPerHelper sockets of the benchmark (the file
// descriptor limit is per process).

// Rates of W6, the same for every system.
const (
	linksRate      = 10                   // data messages per second per peer link
	linksTick      = time.Millisecond     // the peers' send scheduler ticks this often...
	linksSlots     = 100                  // ...and peer i sends in slot i%linksSlots: every 100 ms
	probeInterval  = 5 * time.Millisecond // the probe sends a ping this often (open loop)
	linksPerHelper = 5000                 // peer links per helper process
	linksRamp      = 64                   // links a helper sets up concurrently
	linksSetup     = 5 * time.Minute      // every link must be up within this
)

// The phases of a W6 run (variables so that tests can shorten them).
var (
	linksSettle      = 3 * time.Second // quiet time after the links are up, before the idle measurements
	linksIdle        = time.Second     // idle CPU, then the probe alone, each this long
	linksWarm        = time.Second     // traffic before the measured section
	linksMinDuration = time.Second     // the measured section is 3×-duration, at least this
)

// LinksSystem is the workload family "many links" (W6). Serve runs in the
// child; Peers and Probe run in helper processes and reach the server
// through spec, the text Serve returned.
type LinksSystem interface {
	// Serve starts the server node in this process. Data messages go to
	// data (called in arrival order per sender, never concurrently with
	// itself). Each ping goes to ping and is then answered with a pong of
	// the same sender, seq and body to the probe that sent it, as a user
	// of the system would answer a request.
	Serve(data, ping Handler) (spec string, closeFn func() error, err error)
	// Peers opens n links to the server, link j for sender first+j, each
	// with its own client (a node or a connection), sends hello(j) as the
	// first message on link j, and returns when every link is up. The
	// endpoints send data messages to the server.
	Peers(spec string, first, n int, hello func(j int) Msg) (eps []Endpoint, closeFn func() error, err error)
	// Probe opens one link to the server; its endpoint sends pings whose
	// pongs go to pong.
	Probe(spec string, pong Handler) (ep Endpoint, closeFn func() error, err error)
}

// LinkStats is what a W6 run measures beyond Result's common fields
// (Msgs, ElapsedNs, CPUNs: the messages the server received in the
// measured section and its CPU; Lat: the probe's round trips).
type LinkStats struct {
	N         int   `json:"n"`           // peer links
	Links     int   `json:"links"`       // links into the server: N peers and the probe
	Helpers   int   `json:"helpers"`     // helper processes (peers and probe)
	SetupNs   int64 `json:"setup_ns"`    // helpers started to every link up
	GorBase   int   `json:"gor_base"`    // goroutines of the server process, server up without links
	GorIdle   int   `json:"gor_idle"`    // ... with every link up and idle
	GorLoad   int   `json:"gor_load"`    // ... most seen while the traffic ran
	RSSBase   int64 `json:"rss_base"`    // VmRSS bytes, server up without links (after debug.FreeOSMemory)
	RSSIdle   int64 `json:"rss_idle"`    // ... links up and idle (after debug.FreeOSMemory)
	RSSLoad   int64 `json:"rss_load"`    // ... most seen while the traffic ran (no forced GC)
	IdleCPUNs int64 `json:"idle_cpu_ns"` // server CPU while the links were idle
	IdleNs    int64 `json:"idle_ns"`     // wall time of that idle period
	Sent      int64 `json:"sent"`        // data messages the peers sent in the whole run, hellos included
	// HelperCores is the CPU the helper processes (peers and probe) used
	// from "rec" to "stop", in cores (summed over helpers): they share the
	// machine with the server, and a saturated machine shows here.
	HelperCores float64 `json:"helper_cores"`
	// SentRate is the data messages per second the peers sent from "rec"
	// to "stop" (summed over helpers): below Offered when the peers could
	// not keep up.
	SentRate float64 `json:"sent_rate"`
	// IdleLat is the probe's round trips through the server while the
	// peer links were up but idle (linksIdle, before the traffic).
	IdleLat *Latency `json:"idle_lat,omitempty"`
}

// GorPerLink is the goroutines each idle link adds to the server.
func (s *LinkStats) GorPerLink() float64 { return float64(s.GorIdle-s.GorBase) / float64(s.Links) }

// RSSPerLinkIdle and RSSPerLinkLoad are the bytes of resident memory each
// link adds to the server, idle and under traffic.
func (s *LinkStats) RSSPerLinkIdle() float64 { return float64(s.RSSIdle-s.RSSBase) / float64(s.Links) }
func (s *LinkStats) RSSPerLinkLoad() float64 { return float64(s.RSSLoad-s.RSSBase) / float64(s.Links) }

// IdleCPUPercent is the server's CPU use with every link idle, in % of one core.
func (s *LinkStats) IdleCPUPercent() float64 {
	if s.IdleNs <= 0 {
		return 0
	}
	return 100 * float64(s.IdleCPUNs) / float64(s.IdleNs)
}

// linksDuration is W6's measured section: longer than the others', so that
// the probe collects enough round trips (200/s) for a p99.
func linksDuration(p params) time.Duration { return max(3*p.Duration, linksMinDuration) }

// runLinks is W6 with n peer links, in the child (the server process).
func runLinks(s *System, n int, p params) (Result, error) {
	sys := s.Links
	body := newBody(smallBody)
	dataV := newVerifier(n, body)
	pingV := newVerifier(1, body)
	data := func(m Msg) {
		if m.Kind != KindData {
			dataV.fail(fmt.Errorf("server: %q message on the data receiver", m.Kind.Tag()))
			return
		}
		dataV.check(m)
	}
	ping := func(m Msg) {
		if m.Kind != KindPing {
			pingV.fail(fmt.Errorf("server: %q message on the ping receiver", m.Kind.Tag()))
			return
		}
		pingV.check(m)
	}
	verr := func() error { return errors.Join(dataV.Err(), pingV.Err()) }

	spec, closeSrv, err := sys.Serve(data, ping)
	if err != nil {
		return Result{}, err
	}
	defer closeSrv()
	st := &LinkStats{N: n, Links: n + 1}
	st.GorBase, st.RSSBase = settledFootprint()

	// Helpers: the peers, linksPerHelper links each, and the probe.
	start := time.Now()
	var hs []*helper
	defer func() {
		for _, h := range hs {
			h.close()
		}
	}()
	for first := 0; first < n; first += linksPerHelper {
		h, err := startHelper(helperJob{Role: "peers", Sys: s.Key, Spec: spec, First: first, N: min(linksPerHelper, n-first), Timeout: p.Timeout})
		if err != nil {
			return Result{}, err
		}
		hs = append(hs, h)
	}
	probe, err := startHelper(helperJob{Role: "probe", Sys: s.Key, Spec: spec, Timeout: p.Timeout})
	if err != nil {
		return Result{}, err
	}
	hs = append(hs, probe)
	st.Helpers = len(hs)
	deadline := time.Now().Add(linksSetup)
	for _, h := range hs {
		if _, err := h.expect("READY", time.Until(deadline)); err != nil {
			return Result{Failed: "set-up: " + err.Error()}, nil
		}
	}
	if err := waitDelivered(dataV, int64(n), time.Until(deadline)); err != nil {
		return Result{Failed: "set-up (hellos): " + err.Error()}, nil
	}
	st.SetupNs = time.Since(start).Nanoseconds()

	// Idle: after linksSettle (one-time work after a connection, such as
	// nats-server's first PING to each client within 2 s, is not idle
	// cost), goroutines and memory, then CPU over linksIdle (after the
	// collection settledFootprint forces, so that the set-up's garbage is
	// not collected on the idle clock).
	time.Sleep(linksSettle)
	st.GorIdle, st.RSSIdle = settledFootprint()
	cpu0, t0 := processCPU(), time.Now()
	time.Sleep(linksIdle)
	st.IdleCPUNs, st.IdleNs = processCPU()-cpu0, time.Since(t0).Nanoseconds()
	if err := verr(); err != nil {
		return Result{Failed: err.Error()}, nil
	}

	// The probe alone through the idle links: what many links cost a
	// round trip when nothing else happens.
	for _, c := range []string{"go", "rec"} {
		if err := probe.send(c); err != nil {
			return Result{Failed: err.Error()}, nil
		}
	}
	time.Sleep(linksIdle)
	if err := probe.send("lap"); err != nil {
		return Result{Failed: err.Error()}, nil
	}
	lap, err := probe.report("LAP", p.Timeout)
	if err != nil {
		return Result{Failed: err.Error()}, nil
	}
	st.IdleLat = lap.Lat

	// Traffic: warm-up, then the measured section, sampling the footprint.
	for _, h := range hs[:len(hs)-1] { // the peers; the probe is running
		if err := h.send("go"); err != nil {
			return Result{Failed: err.Error()}, nil
		}
	}
	time.Sleep(linksWarm)
	for _, h := range hs {
		if err := h.send("rec"); err != nil {
			return Result{Failed: err.Error()}, nil
		}
	}
	got0 := dataV.got.Load() + pingV.got.Load()
	m := startMeter()
	end := time.Now().Add(linksDuration(p))
	for time.Now().Before(end) {
		time.Sleep(min(100*time.Millisecond, time.Until(end)))
		st.GorLoad = max(st.GorLoad, runtime.NumGoroutine())
		st.RSSLoad = max(st.RSSLoad, vmRSS())
	}
	var r Result
	m.stop(&r)
	r.Msgs = dataV.got.Load() + pingV.got.Load() - got0
	r.Bytes = r.Msgs * smallBody

	// Stop: every helper reports what it sent; all of it must arrive.
	for _, h := range hs {
		if err := h.send("stop"); err != nil {
			return Result{Failed: err.Error()}, nil
		}
	}
	for _, h := range hs {
		rep, err := h.report("DONE", 2*p.Timeout) // the probe first waits (≤ Timeout) for its pongs
		if err != nil {
			return Result{Failed: err.Error()}, nil
		}
		st.Sent += rep.Sent
		if rep.WallNs > 0 {
			st.HelperCores += float64(rep.CPUNs) / float64(rep.WallNs)
			st.SentRate += float64(rep.SentRec) / (float64(rep.WallNs) / 1e9)
		}
		if rep.Lat != nil {
			r.Lat = rep.Lat
		}
	}
	if err := waitDelivered(dataV, st.Sent, p.Timeout); err != nil {
		return Result{Failed: err.Error()}, nil
	}
	if err := verr(); err != nil {
		return Result{Failed: err.Error()}, nil
	}
	if r.Lat == nil {
		return Result{Failed: "the probe recorded no round trip"}, nil
	}
	r.Links = st
	return r, nil
}

// settledFootprint returns the goroutines and resident memory of this
// process after a garbage collection that also returns free pages to the
// OS (debug.FreeOSMemory): what the process keeps, without the garbage of
// what it did just before.
func settledFootprint() (int, int64) {
	debug.FreeOSMemory()
	return runtime.NumGoroutine(), vmRSS()
}

// vmRSS is this process's resident set size (VmRSS in /proc/self/status), in bytes.
func vmRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(v)
			if len(f) > 0 {
				kb, _ := strconv.ParseInt(f[0], 10, 64)
				return kb << 10
			}
		}
	}
	return 0
}

// helperJob is what a helper process is asked to do (the -helper flag, JSON).
type helperJob struct {
	Role    string        `json:"role"` // "peers" or "probe"
	Sys     string        `json:"sys"`  // system key
	Spec    string        `json:"spec"` // from Serve
	First   int           `json:"first,omitempty"`
	N       int           `json:"n,omitempty"`
	Timeout time.Duration `json:"timeout"`
}

// helperReport is the helper's DONE line.
type helperReport struct {
	Sent    int64    `json:"sent,omitempty"`     // data messages sent, hellos included
	SentRec int64    `json:"sent_rec,omitempty"` // ... of them from "rec" to "stop"
	Lat     *Latency `json:"lat,omitempty"`      // the probe's recorded round trips
	// The helper's CPU and wall time from "rec" to "stop".
	CPUNs  int64  `json:"cpu_ns"`
	WallNs int64  `json:"wall_ns"`
	Err    string `json:"err,omitempty"`
}

// helper is a running helper process, driven over its stdin and stdout:
// it prints READY once its links are up; "go" starts the traffic (the
// probe's pings), "rec" starts the measured section (the probe records
// afresh), "lap" makes the probe print LAP {report}, "stop" ends the
// traffic and makes the helper print DONE {report}; closing its stdin
// makes it close its links and exit.
type helper struct {
	job    helperJob
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  chan string
	stderr *tailBuffer
	once   sync.Once
}

func startHelper(job helperJob) (*helper, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	spec, _ := json.Marshal(job)
	h := &helper{job: job, lines: make(chan string, 16), stderr: &tailBuffer{max: 4096}}
	h.cmd = exec.Command(exe, "-helper", string(spec))
	h.cmd.Stderr = h.stderr
	setHelperAttrs(h.cmd)
	if h.stdin, err = h.cmd.StdinPipe(); err != nil {
		return nil, err
	}
	out, err := h.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := h.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start helper: %w", err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 64<<10), 16<<20)
		for sc.Scan() {
			h.lines <- sc.Text()
		}
		close(h.lines)
	}()
	return h, nil
}

// expect waits for the helper's next line, which must start with word; it
// returns the rest of the line.
func (h *helper) expect(word string, d time.Duration) (string, error) {
	select {
	case line, ok := <-h.lines:
		if !ok {
			h.cmd.Wait()
			return "", fmt.Errorf("%s helper exited before %s (%v): %s", h.job.Role, word, h.cmd.ProcessState, tail(h.stderr.String(), 400))
		}
		rest, found := strings.CutPrefix(line, word)
		if !found {
			return "", fmt.Errorf("%s helper: got %q, want %s", h.job.Role, line, word)
		}
		return strings.TrimSpace(rest), nil
	case <-time.After(d):
		return "", fmt.Errorf("%s helper: no %s within %v: %s", h.job.Role, word, d, tail(h.stderr.String(), 400))
	}
}

// report reads a LAP or DONE line; a report with an error fails.
func (h *helper) report(word string, d time.Duration) (helperReport, error) {
	var rep helperReport
	line, err := h.expect(word, d)
	if err != nil {
		return rep, err
	}
	if err := json.Unmarshal([]byte(line), &rep); err != nil {
		return rep, fmt.Errorf("%s helper: report %q: %v", h.job.Role, line, err)
	}
	if rep.Err != "" {
		return rep, fmt.Errorf("%s helper: %s", h.job.Role, rep.Err)
	}
	return rep, nil
}

func (h *helper) send(cmd string) error {
	if _, err := io.WriteString(h.stdin, cmd+"\n"); err != nil {
		return fmt.Errorf("%s helper: %s: %w", h.job.Role, cmd, err)
	}
	return nil
}

// close ends the helper: stdin closed (it closes its links and exits),
// killed if it has not exited after 30 s.
func (h *helper) close() {
	h.once.Do(func() {
		h.stdin.Close()
		done := make(chan struct{})
		go func() { h.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			h.cmd.Process.Kill()
			<-done
		}
	})
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	b   []byte
	max int
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = append(t.b[:0], t.b[len(t.b)-t.max:]...)
	}
	t.mu.Unlock()
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}

// command is one line from the child, stamped when it arrived (so that
// a helper busy with a long round trip still measures from then).
type command struct {
	c   string
	at  time.Time
	cpu int64
}

// helperMain is the helper process: it runs job and reports on stdout.
func helperMain(spec string) int {
	var job helperJob
	if err := json.Unmarshal([]byte(spec), &job); err != nil {
		fmt.Fprintln(os.Stderr, "bench helper:", err)
		return 2
	}
	s := systemByKey(job.Sys)
	if s == nil || s.Links == nil {
		fmt.Fprintln(os.Stderr, "bench helper: no W6 system", job.Sys)
		return 2
	}
	cmds := make(chan command, 8)
	go func() {
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
			cmds <- command{c: strings.TrimSpace(sc.Text()), at: time.Now(), cpu: processCPU()}
		}
		close(cmds)
	}()
	var err error
	switch job.Role {
	case "peers":
		err = runPeers(s.Links, job, cmds)
	case "probe":
		err = runProbe(s.Links, job, cmds)
	default:
		err = fmt.Errorf("unknown role %q", job.Role)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench helper:", err)
		return 1
	}
	return 0
}

// say prints a report line (DONE or LAP).
func say(word string, rep helperReport) {
	b, _ := json.Marshal(rep)
	fmt.Printf("%s %s\n", word, b)
}

// waitCmd waits for the next command; EOF (the child is gone) is "exit".
func waitCmd(cmds <-chan command) command {
	c, ok := <-cmds
	if !ok {
		return command{c: "exit", at: time.Now(), cpu: processCPU()}
	}
	return c
}

// recClock measures a helper's CPU from "rec" to "stop".
type recClock struct {
	from command
}

func (c *recClock) stop(rep *helperReport, at command) {
	if !c.from.at.IsZero() {
		rep.CPUNs, rep.WallNs = at.cpu-c.from.cpu, at.at.Sub(c.from.at).Nanoseconds()
	}
}

// runPeers opens the job's links, waits for "go", sends linksRate messages
// per second on each until "stop" (measuring its CPU from "rec"), reports,
// and waits for its stdin to close.
func runPeers(sys LinksSystem, job helperJob, cmds <-chan command) error {
	body := newBody(smallBody)
	eps, closeFn, err := sys.Peers(job.Spec, job.First, job.N, func(j int) Msg {
		return Msg{Kind: KindData, Sender: uint32(job.First + j), Seq: 0, Body: body}
	})
	if err != nil {
		return err
	}
	defer closeFn()
	fmt.Println("READY")
	if c := waitCmd(cmds); c.c != "go" {
		return fmt.Errorf("got %q, want go", c.c)
	}
	seqs := make([]uint64, len(eps))
	for j := range seqs {
		seqs[j] = 1 // the hello was seq 0
	}
	// Slot k of the schedule is due at start + k×linksTick; a late wake-up
	// sends every slot that has come due, so the offered rate stays
	// linksRate per peer even when a tick is missed.
	var (
		sendErr  error
		clock    recClock
		last     command
		stop     bool
		recSeqs  int64 // messages sent when "rec" came
		countAll = func() int64 {
			var t int64
			for _, s := range seqs {
				t += int64(s)
			}
			return t
		}
	)
	handle := func(c command) {
		switch c.c {
		case "rec":
			clock.from, recSeqs = c, countAll()
		case "stop":
			stop, last = true, c
		default:
			sendErr = fmt.Errorf("got %q, want rec or stop", c.c)
			stop, last = true, c
		}
	}
	tick := time.NewTicker(linksTick)
	start, done := time.Now(), 0
	for !stop {
		select {
		case c := <-cmds:
			handle(c)
			continue
		case <-tick.C:
		}
		for due := int(time.Since(start) / linksTick); done < due && sendErr == nil && !stop; done++ {
			// Peer j sends in slot (First+j)%linksSlots: every 100 ms, the
			// peers of one slot together.
			slot := done % linksSlots
			for j := (linksSlots - job.First%linksSlots + slot) % linksSlots; j < len(eps); j += linksSlots {
				if err := eps[j].Send(Msg{Kind: KindData, Sender: uint32(job.First + j), Seq: seqs[j], Body: body}); err != nil {
					sendErr = fmt.Errorf("peer %d: send: %w", job.First+j, err)
					break
				}
				seqs[j]++
			}
			select { // a helper that falls behind still hears "rec" and "stop" in time
			case c := <-cmds:
				handle(c)
			default:
			}
		}
	}
	tick.Stop()
	rep := helperReport{Sent: countAll()}
	if !clock.from.at.IsZero() {
		rep.SentRec = rep.Sent - recSeqs
	}
	clock.stop(&rep, last)
	if sendErr != nil {
		rep.Err = sendErr.Error()
	}
	say("DONE", rep)
	waitCmd(cmds) // until the child closes stdin
	return nil
}

// runProbe opens one link and, after "go", sends a ping every
// probeInterval whatever the pongs do (open loop: a stalled server shows
// as many slow round trips, not as one), recording the round trip of each
// ping sent while recording. "rec" starts a recording (window), "lap" ends
// it, waits for its pongs and reports it (LAP line), "stop" stops the
// pings, waits for every pong and reports the last window (DONE).
func runProbe(sys LinksSystem, job helperJob, cmds <-chan command) error {
	body := newBody(smallBody)
	pr := &probeState{v: newVerifier(1, body), base: time.Now()}
	ep, closeFn, err := sys.Probe(job.Spec, pr.pong)
	if err != nil {
		return err
	}
	defer closeFn()
	ping := func() error {
		pr.mu.Lock()
		seq := uint64(len(pr.sentAt))
		pr.sentAt = append(pr.sentAt, time.Since(pr.base).Nanoseconds())
		pr.window = append(pr.window, pr.cur)
		pr.mu.Unlock()
		if err := ep.Send(Msg{Kind: KindPing, Seq: seq, Body: body}); err != nil {
			return fmt.Errorf("probe: send: %w", err)
		}
		return nil
	}
	// The first round trip brings the link up.
	if err := ping(); err == nil {
		err = pr.settle(job.Timeout)
	}
	if err != nil {
		return err
	}
	fmt.Println("READY")
	if c := waitCmd(cmds); c.c != "go" {
		return fmt.Errorf("got %q, want go", c.c)
	}
	stopPings, pingsDone := make(chan struct{}), make(chan error, 1)
	go func() {
		tick := time.NewTicker(probeInterval)
		defer tick.Stop()
		for {
			select {
			case <-stopPings:
				pingsDone <- nil
				return
			case <-tick.C:
			}
			if err := ping(); err != nil {
				pingsDone <- err
				return
			}
		}
	}()
	var clock recClock
	win := uint8(0)
	result := func(at command, err error) helperReport {
		if err == nil {
			err = pr.settle(job.Timeout)
		}
		pr.mu.Lock()
		rep := helperReport{Lat: latencyOf(pr.rtts[win])}
		pr.mu.Unlock()
		clock.stop(&rep, at)
		if err != nil {
			rep.Err = err.Error()
		}
		return rep
	}
	for {
		c := waitCmd(cmds)
		switch c.c {
		case "rec":
			pr.mu.Lock()
			win++
			pr.cur = win
			pr.mu.Unlock()
			clock.from = c
		case "lap":
			pr.mu.Lock()
			pr.cur = 0
			pr.mu.Unlock()
			var err error
			select {
			case err = <-pingsDone: // the pings failed
			default:
			}
			say("LAP", result(c, err))
		default: // "stop", or anything else (the child is gone): stop
			close(stopPings)
			err := <-pingsDone
			if c.c != "stop" && err == nil {
				err = fmt.Errorf("got %q, want rec, lap or stop", c.c)
			}
			say("DONE", result(c, err))
			waitCmd(cmds)
			return nil
		}
	}
}

// probeState is the probe's bookkeeping: when each ping was sent and in
// which recording window (0: none), and the round trips per window.
type probeState struct {
	v      *verifier
	base   time.Time
	mu     sync.Mutex
	cur    uint8   // window of the pings being sent now
	sentAt []int64 // per seq, ns since base
	window []uint8 // per seq
	rtts   [256][]int64
}

// pong is the probe's Handler: pongs arrive in seq order (verified).
func (p *probeState) pong(m Msg) {
	now := time.Since(p.base).Nanoseconds()
	if m.Kind != KindPong || !p.v.check(m) {
		p.v.fail(fmt.Errorf("probe: unexpected %q message", m.Kind.Tag()))
		return
	}
	p.mu.Lock()
	if w := p.window[m.Seq]; w != 0 {
		p.rtts[w] = append(p.rtts[w], now-p.sentAt[m.Seq])
	}
	p.mu.Unlock()
}

// settle waits until every ping sent so far has its pong.
func (p *probeState) settle(timeout time.Duration) error {
	p.mu.Lock()
	n := int64(len(p.sentAt))
	p.mu.Unlock()
	end := time.Now().Add(timeout)
	for p.v.got.Load() < n {
		if err := p.v.Err(); err != nil {
			return err
		}
		if time.Now().After(end) {
			return fmt.Errorf("probe: %d of %d pongs within %v", p.v.got.Load(), n, timeout)
		}
		time.Sleep(time.Millisecond)
	}
	return p.v.Err()
}

package aemp

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// scheduler runs ports that have messages on a fixed set of worker
// goroutines. A port is in the run queue at most once (its state moves
// idle→scheduled with a CAS before it is queued), so the queue never holds
// more entries than there are ports.
type scheduler struct {
	runq chan *Port

	mu     sync.Mutex
	over   []*Port // used only when runq is full; drained by the workers
	closed bool
	wg     sync.WaitGroup
	quit   chan struct{}

	spinning atomic.Bool // one idle worker of this node polls the run queue before parking
	stopping atomic.Bool // stop was called: workers take no more ports

	maxSpinners int32 // GOMAXPROCS when the node started: the process's bound on spinners
}

// spinRounds is how many times an idle worker yields and re-checks the run
// queue before it parks. Waking a parked goroutine on another core costs
// tens of microseconds on virtual machines (a futex wake-up); a worker that
// is still polling takes the next port without one. Only one worker per
// node spins at a time, at most GOMAXPROCS in the process (pollers), and
// it yields the processor on every round.
const spinRounds = 64

// pollers bounds the idle workers polling their run queues in the whole
// process: one per node, and no more than GOMAXPROCS in all, so that many
// nodes in one process (tests, a benchmark's mesh) do not spin against
// each other. While the process has no more nodes than the bound, the
// counter is not touched (one node per process: no shared write per idle
// turn); a spinner that started then is not counted, so for a moment after
// more nodes start, up to twice the bound may poll.
var pollers struct {
	_          [64]byte     // a cache line of their own
	schedulers atomic.Int32 // schedulers running (nodes not closed)
	spinners   atomic.Int32 // counted pollers
	_          [56]byte
}

const runqSize = 4096

func newScheduler(workers int) *scheduler {
	s := &scheduler{runq: make(chan *Port, runqSize), quit: make(chan struct{}),
		maxSpinners: int32(runtime.GOMAXPROCS(0))}
	pollers.schedulers.Add(1)
	s.wg.Add(workers)
	for range workers {
		go s.worker()
	}
	return s
}

// enqueue queues a port whose state was just set to scheduled. It never
// blocks.
func (s *scheduler) enqueue(p *Port) {
	select {
	case s.runq <- p:
	default:
		s.mu.Lock()
		s.over = append(s.over, p)
		s.mu.Unlock()
	}
}

func (s *scheduler) worker() {
	defer s.wg.Done()
	for {
		if s.stopping.Load() {
			return // queued messages are dropped, not handled
		}
		select {
		case p := <-s.runq:
			p.run()
			s.spill()
			continue
		default:
		}
		if p := s.spin(); p != nil {
			p.run()
			s.spill()
			continue
		}
		select {
		case p := <-s.runq:
			p.run()
			s.spill()
		case <-s.quit:
			return
		}
	}
}

// spin polls the run queue for a short while if no other worker does.
func (s *scheduler) spin() *Port {
	if !s.spinning.CompareAndSwap(false, true) {
		return nil
	}
	defer s.spinning.Store(false)
	if pollers.schedulers.Load() > s.maxSpinners {
		for c := pollers.spinners.Load(); ; c = pollers.spinners.Load() {
			if c >= s.maxSpinners {
				return nil
			}
			if pollers.spinners.CompareAndSwap(c, c+1) {
				break
			}
		}
		defer pollers.spinners.Add(-1)
	}
	for range spinRounds {
		select {
		case p := <-s.runq:
			return p
		default:
			runtime.Gosched()
		}
	}
	return nil
}

// spill moves ports from the overflow list into the run queue while it has
// room.
func (s *scheduler) spill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.over) > 0 {
		select {
		case s.runq <- s.over[0]:
			s.over[0] = nil
			s.over = s.over[1:]
		default:
			return
		}
	}
}

// stop ends the workers after the handlers they are running return.
func (s *scheduler) stop() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	s.mu.Unlock()
	s.stopping.Store(true)
	close(s.quit)
	s.wg.Wait()
	pollers.schedulers.Add(-1)
}

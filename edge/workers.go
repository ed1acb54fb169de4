package edge

import "time"

// workerIdle is how long a worker goroutine waits for its next task before
// it ends. Long enough to carry a worker from one action to the next under
// load, short enough that an edge left idle keeps none (the idle-socket
// memory rows are read seconds after the last action).
const workerIdle = time.Second

// spawn runs f on a goroutine Close waits for. Callers hold a socket that
// is not finished (a socket counts in s.wg from track to finish), so the
// count is above zero and Add cannot race Close's Wait.
//
// f runs on a worker that is waiting for a task when there is one, else on
// a new one. A worker keeps its goroutine, and so its grown stack, from
// one task to the next: an action's goroutine grows its stack from the
// runtime's starting size through the directory's cache and the mesh
// request, and a socket writer's through the write syscall, which cost the
// edge about 7 % of its CPU in copied stacks when each task had a goroutine
// of its own (docs/performance.md, issue 11, "the edges' own CPU").
func (s *Server) spawn(f func()) {
	s.wg.Add(1)
	select {
	case s.tasks <- f:
	default:
		go s.work(f)
	}
}

// work runs f, then the tasks spawn hands it, until none came for
// workerIdle or the edge closed.
func (s *Server) work(f func()) {
	var idle *time.Timer
	for {
		f()
		f = nil // drop the task's closure before waiting
		s.wg.Done()
		if idle == nil {
			idle = time.NewTimer(workerIdle)
		} else {
			idle.Reset(workerIdle)
		}
		select {
		case f = <-s.tasks:
		case <-idle.C:
			return
		case <-s.done:
			idle.Stop()
			return
		}
	}
}

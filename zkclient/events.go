package zkclient

import "sync"

// eventQueue delivers events in order without ever blocking the reader: while
// the channel has room and nothing is backed up, push sends directly (so an
// event is receivable before the reply that followed it returns); otherwise
// it appends to an unbounded backlog that a pump goroutine drains in order.
type eventQueue struct {
	out chan Event

	mu      sync.Mutex
	backlog []Event
	closed  bool
	pumping bool
}

const eventBuffer = 256

func newEventQueue() *eventQueue {
	return &eventQueue{out: make(chan Event, eventBuffer)}
}

func (q *eventQueue) push(ev Event) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return
	}
	if len(q.backlog) == 0 {
		select {
		case q.out <- ev:
			return
		default:
		}
	}
	q.backlog = append(q.backlog, ev)
	if !q.pumping {
		q.pumping = true
		go q.pump()
	}
}

// pump moves the backlog into the channel. The head stays in the backlog until
// it is sent, so push never overtakes it.
func (q *eventQueue) pump() {
	for {
		q.mu.Lock()
		if len(q.backlog) == 0 {
			q.pumping = false
			if q.closed {
				close(q.out)
			}
			q.mu.Unlock()
			return
		}
		ev := q.backlog[0]
		q.mu.Unlock()
		q.out <- ev
		q.mu.Lock()
		q.backlog[0] = Event{}
		q.backlog = q.backlog[1:]
		q.mu.Unlock()
	}
}

// close closes the channel once the backlog is delivered.
func (q *eventQueue) close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return
	}
	q.closed = true
	if !q.pumping {
		close(q.out)
	}
}

package acl

import (
	"slices"
	"sync"
)

// MemStore is a Store in memory, for tests and for a broker's own use without ZooKeeper.
type MemStore struct {
	mu       sync.Mutex
	patterns map[Pattern]versioned
	// Notified lists the patterns whose change notifications were written, in order.
	Notified []Pattern
}

// NewMemStore returns an empty MemStore.
func NewMemStore() *MemStore { return &MemStore{patterns: map[Pattern]versioned{}} }

func (m *MemStore) Get(p Pattern) ([]Entry, int32, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.patterns[p]
	if !ok {
		return nil, -1, false, nil
	}
	return slices.Clone(v.entries), v.version, true, nil
}

func (m *MemStore) Create(p Pattern, entries []Entry) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.patterns[p]; ok {
		return false, nil
	}
	m.patterns[p] = versioned{slices.Clone(entries), 0}
	return true, nil
}

func (m *MemStore) Set(p Pattern, entries []Entry, version int32) (int32, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.patterns[p]
	if !ok || v.version != version {
		return -1, false, nil
	}
	m.patterns[p] = versioned{slices.Clone(entries), version + 1}
	return version + 1, true, nil
}

func (m *MemStore) Delete(p Pattern, version int32) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.patterns[p]
	if ok && v.version != version {
		return false, nil
	}
	delete(m.patterns, p)
	return true, nil
}

func (m *MemStore) Notify(p Pattern) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.Notified = append(m.Notified, p)
	return nil
}

func (m *MemStore) Patterns() ([]Pattern, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Pattern
	for p := range m.patterns {
		out = append(out, p)
	}
	return out, nil
}

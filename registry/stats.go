package registry

// Counts is the size of a registry, for a node's statistics.
type Counts struct {
	// LocalFamilies and LocalKeys count what this node set itself.
	LocalFamilies, LocalKeys int
	// Families and Keys count the merged view of a global node (0 on a
	// normal node); a family without keys is not counted.
	Families, Keys int
	// Monitored is the number of families this node monitors (db_mon).
	Monitored int
	// Slaves is the number of nodes a global node is the master of
	// (itself included); GlobalPeers the other global nodes it knows.
	Slaves, GlobalPeers int
	// Pending is the number of queries and finds waiting for an answer.
	Pending int
}

// Counts returns the registry's sizes. It costs one step per family.
func (s *State) Counts() Counts {
	c := Counts{LocalFamilies: len(s.local), Monitored: len(s.mons), Pending: len(s.queries) + len(s.finds)}
	for _, f := range s.local {
		c.LocalKeys += len(f)
	}
	if g := s.g; g != nil {
		for _, f := range g.db {
			if len(f) > 0 {
				c.Families++
				c.Keys += len(f)
			}
		}
		c.Slaves, c.GlobalPeers = len(g.slaves), len(g.peers)
	}
	return c
}

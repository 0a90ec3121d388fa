package memstore

// ForgetTallies drops the tallies of message id, as if its summary had been
// written by a program that keeps none.
func ForgetTallies(s *Store, id int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k := range s.tallies {
		if k.message == id {
			delete(s.tallies, k)
		}
	}
}

package directory

// FNV-1a 64 parameters.
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// Rendezvous returns the node of nodes that key (a session or creator id)
// belongs to by highest-random-weight hashing: the node with the highest
// hash of node+"/"+key, ties to the smaller name. Removing a node moves only
// the keys it had; adding one moves only the keys it wins. It returns ""
// for no nodes.
func Rendezvous(key string, nodes []string) string {
	var best string
	var bestScore uint64
	for _, n := range nodes {
		s := rendezvousScore(n, key)
		if best == "" || s > bestScore || (s == bestScore && n < best) {
			best, bestScore = n, s
		}
	}
	return best
}

// rendezvousScore is FNV-1a 64 of node+"/"+key, finished with the splitmix64
// mixer so nearby inputs give independent scores.
func rendezvousScore(node, key string) uint64 {
	x := uint64(fnvOffset)
	x = fnvAdd(x, node)
	x = (x ^ '/') * fnvPrime
	x = fnvAdd(x, key)
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// fnvAdd folds s into the FNV-1a hash x.
func fnvAdd(x uint64, s string) uint64 {
	for i := range len(s) {
		x = (x ^ uint64(s[i])) * fnvPrime
	}
	return x
}

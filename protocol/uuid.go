package protocol

// IsUUID reports whether s is a UUID in canonical 8-4-4-4-12 hex form, the
// form of every user, session and case id in the protocol (a token's sub, a
// partnerId, a session id).
func IsUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := range len(s) {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}

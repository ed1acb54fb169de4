package edge

import (
	"net"
	"net/http"

	"courtmesh/edge/internal/sio"
)

// errTooManyFromIP answers a handshake from an address at MaxSocketsPerIP.
const errTooManyFromIP = `{"code":3,"message":"Too many connections"}`

// userLimitFrame refuses a CONNECT of a user at MaxSocketsPerUser; the
// client sees a connect_error "Too many connections".
var userLimitFrame = sio.AppendConnectError(nil, sio.DefaultNamespace, "Too many connections")

// admitIP counts a handshake from r's client address against
// MaxSocketsPerIP and reports the address to release, and false when the
// address is at the cap (counted as an ip_limit close). With no cap it
// counts nothing and returns "".
func (s *Server) admitIP(r *http.Request) (ip string, ok bool) {
	if s.cfg.MaxSocketsPerIP <= 0 {
		return "", true
	}
	ip, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		ip = r.RemoteAddr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.perIP[ip] >= s.cfg.MaxSocketsPerIP {
		s.m.closes.WithLabelValues(string(reasonIPLimit)).Inc()
		return "", false
	}
	s.perIP[ip]++
	return ip, true
}

// releaseIP undoes admitIP.
func (s *Server) releaseIP(ip string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.releaseIPLocked(ip)
}

func (s *Server) releaseIPLocked(ip string) {
	if ip == "" {
		return
	}
	if s.perIP[ip]--; s.perIP[ip] <= 0 {
		delete(s.perIP, ip)
	}
}

// admitUser counts c, whose CONNECT authenticated user, against
// MaxSocketsPerUser; false means the user is at the cap.
func (s *Server) admitUser(c *conn, user string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cfg.MaxSocketsPerUser > 0 && s.perUser[user] >= s.cfg.MaxSocketsPerUser {
		return false
	}
	s.perUser[user]++
	c.counted = user
	return true
}

// releaseCapsLocked undoes what admitIP and admitUser counted for c, which
// is leaving Server.conns. s.mu held.
func (s *Server) releaseCapsLocked(c *conn) {
	s.releaseIPLocked(c.ip)
	c.ip = ""
	if c.counted == "" {
		return
	}
	if s.perUser[c.counted]--; s.perUser[c.counted] <= 0 {
		delete(s.perUser, c.counted)
	}
	c.counted = ""
}

// Package sio is the codec of the edge's client protocol: Engine.IO v4 text
// packets over WebSocket, carrying Socket.IO v5 packets in message packets.
// Binary packets are refused: the court client never sends them.
package sio

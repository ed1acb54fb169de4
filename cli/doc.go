// Package cli owns the command lines of courtmesh: the cobra trees of courtd
// and courtctl, their flags, the configuration read from the environment, and
// the wiring that composes the edge, home and mesh libraries into processes.
// The mains in cli/courtd and cli/courtctl only call Execute.
package cli

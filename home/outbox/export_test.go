package outbox

// HoldWarnEvery lets tests see the hold warning at every round.
var HoldWarnEvery = &holdWarnEvery

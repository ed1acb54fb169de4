package judge

import (
	"errors"
	"fmt"
	"net/http"
)

// Sentinel errors.
var (
	// ErrInvalidInput matches every *InputError.
	ErrInvalidInput = errors.New("judge: invalid input")
	// ErrBadResponse means the judge replied 2xx with output that is not
	// valid JSON or lacks a required field.
	ErrBadResponse = errors.New("judge: bad response")
	// ErrConfig reports an invalid Config, DevConfig or OpenAIConfig.
	ErrConfig = errors.New("judge: invalid config")
)

// InputError is a case the judge refuses to judge (court-protocol.md §3.6
// step 6). Its text is the session's error verdict, verbatim.
type InputError struct {
	// Reason says what is wrong, e.g. "userA.cameraFacts must not be empty".
	Reason string
}

const inputPrefix = "Invalid input: "

func (e *InputError) Error() string { return inputPrefix + e.Reason }

// Is makes errors.Is(err, ErrInvalidInput) hold.
func (e *InputError) Is(target error) bool { return target == ErrInvalidInput }

func invalid(format string, args ...any) error {
	return &InputError{Reason: fmt.Sprintf(format, args...)}
}

// StatusError is a non-2xx reply of a judge service or model endpoint, other
// than invalid input.
type StatusError struct {
	Status int
	// Message is the reply's error text.
	Message string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("status %d: %s", e.Status, e.Message)
}

// Temporary reports whether a later attempt may succeed: 5xx, 408 and 429.
func (e *StatusError) Temporary() bool {
	return e.Status >= 500 || e.Status == http.StatusRequestTimeout || e.Status == http.StatusTooManyRequests
}

// genericVerdictError is the verdict text of a failure with no message fit
// for users (§3.6 "Verdict generation failed").
const genericVerdictError = "Verdict generation failed"

// VerdictError is the error message of the error verdict for a failed
// deliberation: an *InputError's own text, else a generic one, so transport
// details never reach users.
func VerdictError(err error) string {
	if ie, ok := errors.AsType[*InputError](err); ok {
		return ie.Error()
	}
	return genericVerdictError
}

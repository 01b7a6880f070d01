package api

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// Error codes in the envelope's errors. They are onair's own; each goes with
// one HTTP status.
const (
	CodeUnauthorized     = 10000 // 401: missing or wrong API token
	CodeForbidden        = 10001 // 403: the account is not served here
	CodeInternal         = 10002 // 500: a server fault
	CodeNotFound         = 10003 // 404: no such route or object
	CodeMethodNotAllowed = 10004 // 405: the route has no such method
	CodeBadRequest       = 10005 // 400: bad JSON, field or value
	CodeTooLarge         = 10006 // 413: body over the limit
	CodeConflict         = 10007 // 409: the request conflicts with what is stored
)

// envelope is the body of every response.
type envelope struct {
	Result   any            `json:"result"`
	Success  bool           `json:"success"`
	Errors   []envelopeItem `json:"errors"`
	Messages []envelopeItem `json:"messages"`
}

// envelopeItem is one entry of errors or messages.
type envelopeItem struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// apiError is a failure to report to the client with its status and code.
type apiError struct {
	status  int
	code    int
	message string
}

func (e *apiError) Error() string {
	return e.message
}

func badRequest(format string, args ...any) *apiError {
	return &apiError{http.StatusBadRequest, CodeBadRequest, fmt.Sprintf(format, args...)}
}

func notFound(format string, args ...any) *apiError {
	return &apiError{http.StatusNotFound, CodeNotFound, fmt.Sprintf(format, args...)}
}

// writeResult sends a successful envelope around result.
func writeResult(w http.ResponseWriter, status int, result any) {
	writeEnvelope(w, status, envelope{Result: result, Success: true,
		Errors: []envelopeItem{}, Messages: []envelopeItem{}})
}

// writeError sends a failed envelope carrying e.
func writeError(w http.ResponseWriter, e *apiError) {
	writeEnvelope(w, e.status, envelope{Success: false,
		Errors:   []envelopeItem{{Code: e.code, Message: e.message}},
		Messages: []envelopeItem{}})
}

func writeEnvelope(w http.ResponseWriter, status int, env envelope) {
	body, err := json.Marshal(env)
	if err != nil {
		// Only a result that cannot be encoded lands here: a server fault.
		status = http.StatusInternalServerError
		body, _ = json.Marshal(envelope{Errors: []envelopeItem{{Code: CodeInternal,
			Message: "cannot encode the result"}}, Messages: []envelopeItem{}})
	}

	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(append(body, '\n'))
}

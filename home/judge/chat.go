package judge

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// chatRequest is an OpenAI chat-completions request in JSON mode.
type chatRequest struct {
	Model          string        `json:"model"`
	Messages       []chatMessage `json:"messages"`
	MaxTokens      int           `json:"max_tokens"`
	Temperature    *float64      `json:"temperature,omitempty"`
	ResponseFormat struct {
		Type string `json:"type"`
	} `json:"response_format"`
}

type chatMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// chatResponse is the part of a chat-completions reply the judge reads.
// OpenRouter may answer 200 with an error object instead of choices.
type chatResponse struct {
	Choices []struct {
		Message struct {
			Content string `json:"content"`
		} `json:"message"`
	} `json:"choices"`
	Error *chatError `json:"error"`
}

type chatError struct {
	Message string `json:"message"`
}

func (c completion) body() ([]byte, error) {
	input, err := json.Marshal(c.input)
	if err != nil {
		return nil, fmt.Errorf("marshal prompt input: %w", err)
	}
	req := chatRequest{
		Model: c.model, MaxTokens: c.maxTokens, Temperature: c.temperature,
		Messages: []chatMessage{{Role: "system", Content: c.system}, {Role: "user", Content: string(input)}},
	}
	req.ResponseFormat.Type = "json_object"
	body, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("marshal chat request: %w", err)
	}
	return body, nil
}

// send is one attempt: it posts body and returns the first choice's content.
func (o *OpenAI) send(ctx context.Context, key string, body []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, o.url, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("%w: build request: %w", ErrConfig, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+o.key)
	req.Header.Set(HeaderIdempotencyKey, key)
	req.Header.Set("X-Title", "courtmesh")
	resp, err := o.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	reply, err := io.ReadAll(io.LimitReader(resp.Body, maxReply+1))
	if err != nil {
		return nil, fmt.Errorf("read reply: %w", err)
	}
	var chat chatResponse
	jsonErr := json.Unmarshal(reply, &chat)
	switch {
	case resp.StatusCode/100 != 2:
		msg := http.StatusText(resp.StatusCode)
		if jsonErr == nil && chat.Error != nil && chat.Error.Message != "" {
			msg = chat.Error.Message
		}
		return nil, &StatusError{Status: resp.StatusCode, Message: msg}
	case jsonErr != nil:
		return nil, fmt.Errorf("%w: %w", ErrBadResponse, jsonErr)
	case chat.Error != nil:
		return nil, &StatusError{Status: http.StatusBadGateway, Message: chat.Error.Message}
	case len(chat.Choices) == 0:
		return nil, fmt.Errorf("%w: no choices", ErrBadResponse)
	}
	return []byte(chat.Choices[0].Message.Content), nil
}

// stripFence removes a Markdown code fence around content, which some models
// add even in JSON mode.
func stripFence(content []byte) []byte {
	s := strings.TrimSpace(string(content))
	if rest, ok := strings.CutPrefix(s, "```"); ok {
		rest = strings.TrimPrefix(rest, "json")
		rest, _ = strings.CutSuffix(strings.TrimSpace(rest), "```")
		s = strings.TrimSpace(rest)
	}
	return []byte(s)
}

// parsePhase1 reads {"analysis", "resolutions", "assessedIntensity"}; the
// resolutions and the intensity may instead sit inside the analysis.
func parsePhase1(content []byte) (Phase1Result, error) {
	var out struct {
		Analysis          json.RawMessage `json:"analysis"`
		Resolutions       []Resolution    `json:"resolutions"`
		AssessedIntensity string          `json:"assessedIntensity"`
	}
	if err := json.Unmarshal(content, &out); err != nil {
		return Phase1Result{}, err
	}
	var inner struct {
		Resolutions       []Resolution `json:"resolutions"`
		AssessedIntensity string       `json:"assessedIntensity"`
	}
	if isObject(out.Analysis) {
		_ = json.Unmarshal(out.Analysis, &inner) // only a fallback; checked below
	}
	r := Phase1Result{Analysis: out.Analysis, Resolutions: out.Resolutions,
		AssessedIntensity: orDefault(out.AssessedIntensity, inner.AssessedIntensity)}
	if len(r.Resolutions) == 0 {
		r.Resolutions = inner.Resolutions
	}
	return r, r.check()
}

func parsePhase2(content []byte) (Phase2Result, error) {
	var out struct {
		PrimingContent PrimingContent  `json:"primingContent"`
		JointMenu      json.RawMessage `json:"jointMenu"`
	}
	if err := json.Unmarshal(content, &out); err != nil {
		return Phase2Result{}, err
	}
	r := Phase2Result{PrimingContent: out.PrimingContent, JointMenu: out.JointMenu}
	return r, r.check()
}

// parseHybrid reads the hybrid object, bare or as {"hybrid": {...}}.
func parseHybrid(content []byte) (HybridResult, error) {
	var wrapped struct {
		Hybrid *Hybrid `json:"hybrid"`
	}
	if err := json.Unmarshal(content, &wrapped); err != nil {
		return HybridResult{}, err
	}
	var h Hybrid
	if wrapped.Hybrid != nil {
		h = *wrapped.Hybrid
	} else if err := json.Unmarshal(content, &h); err != nil {
		return HybridResult{}, err
	}
	if err := h.check(); err != nil {
		return HybridResult{}, err
	}
	return HybridResult{Hybrid: h}, nil
}

package main

// Op is one operation as a client saw it: a line of the history.
type Op struct {
	Client int    `json:"client"`
	Kind   string `json:"kind"` // read, write, cas
	Key    string `json:"key"`
	// Value written (write), or the new value (cas).
	Value string `json:"value,omitempty"`
	// The value a cas expects.
	Expect string `json:"expect,omitempty"`
	Invoke int64  `json:"invoke"`
	Done   int64  `json:"done"`
	// ok, fail (Redis answered with an error), unknown (no answer).
	Result string `json:"result"`
	// What a read returned ("" for no key) or whether a cas swapped.
	Read    string `json:"read,omitempty"`
	Swapped bool   `json:"swapped,omitempty"`
	Error   string `json:"error,omitempty"`
}

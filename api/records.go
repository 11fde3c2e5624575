package api

import "net/http"

// RecordsInput is the body of POST /api/v1/records: static DNS records in
// zone-file text. With Replace, static records not listed are removed.
type RecordsInput struct {
	Records []string `json:"records"`
	Replace bool     `json:"replace,omitempty"`
}

// RecordsAdded is the answer: the records that were new.
type RecordsAdded struct {
	Added []string `json:"added"`
}

func (s *server) listRecords(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.snap().Records())
}

func (s *server) addRecords(w http.ResponseWriter, r *http.Request) {
	var in RecordsInput
	if !decode(w, r, &in) {
		return
	}
	added, err := s.Registry.AddRecords(r.Context(), in.Records, in.Replace)
	if added == nil {
		added = []string{}
	}
	respond(w, http.StatusOK, &RecordsAdded{added}, err)
}

func (s *server) removeRecord(w http.ResponseWriter, r *http.Request) {
	removed(w, s.Registry.RemoveRecord(r.Context(), r.URL.Query().Get("rr")))
}

package rater

import (
	"encoding/json"
	"github.com/chaperone-dev/chaperone/internal/atomicfile"
	"os"
	"path/filepath"
	"time"

	"github.com/chaperone-dev/chaperone/models"
)

// The answer cache is a folder of small JSON files, one per prompt, shared
// by every chaperone process of the user (shim processes live for one
// command, so an in-memory cache would never hit). An entry is used for
// cacheTTL after it was written; a damaged entry is a miss.

const cacheTTL = 7 * 24 * time.Hour

func (m *Model) cachePath(key string) string {
	return filepath.Join(m.stateDir, "model-cache", key[:2], key+".json")
}

func (m *Model) cacheGet(key string) (*models.ModelAnswer, bool) {
	name := m.cachePath(key)
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, false
	}
	var e cacheEntry
	if json.Unmarshal(data, &e) != nil || e.Answer == nil || e.Answer.Error != "" ||
		e.Answer.Risk < models.Low || e.Answer.Risk > models.High || m.now().Sub(e.Written) > cacheTTL {
		return nil, false
	}
	a := e.Answer
	a.Cached = true
	a.DurationMS = 0
	return a, true
}

type cacheEntry struct {
	Written time.Time           `json:"written"`
	Answer  *models.ModelAnswer `json:"answer"`
}

func (m *Model) cachePut(key string, a *models.ModelAnswer) {
	data, err := json.Marshal(cacheEntry{Written: m.now(), Answer: a})
	if err != nil {
		return
	}
	atomicfile.WriteFile(m.cachePath(key), data, 0o600, nil)
}

package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"maps"
	"runtime"
	"slices"
	"sync"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/provision/provision/kickstart"
)

// Document is the registry as a file: what `provision export` writes and
// `provision import` reads. Objects are sorted by name, so that exporting
// the same registry twice gives the same bytes.
type Document struct {
	Settings map[string]string `yaml:"settings,omitempty"`
	// SecretSettings are the global secret settings: with their values in
	// an export with secrets, else their keys only ("": keep the value
	// the registry has, on import).
	SecretSettings map[string]Secret `yaml:"secret_settings,omitempty"`
	Subnets        []Subnet          `yaml:"subnets,omitempty"`
	Images         []Image           `yaml:"images,omitempty"`
	Profiles       []Profile         `yaml:"profiles,omitempty"`
	Systems        []System          `yaml:"systems,omitempty"`
	Records        []string          `yaml:"records,omitempty"` // static DNS records
	// Templates are the user's install templates (built-ins are not
	// exported: every appliance has them).
	Templates []kickstart.Template `yaml:"templates,omitempty"`
	// Rules are the discovery rules.
	Rules []Rule `yaml:"rules,omitempty"`
	// Hooks are the webhooks, their secrets only in an export with secrets.
	Hooks []Hook `yaml:"hooks,omitempty"`
	// Users are the people who may use the API and the dashboard. Their
	// API tokens are never exported, not even with secrets: they are
	// credentials, kept only as hashes, and a token is made again with
	// `provision token create` where it is needed.
	Users []User `yaml:"users,omitempty"`
}

// Export returns the registry as YAML. BMC passwords, build tokens and the
// values of secret settings are left out unless withSecrets is set. Users
// are exported, their API tokens never (they are credentials).
func (s *Snapshot) Export(withSecrets bool) ([]byte, error) {
	var d Document
	if len(s.settings) > 0 {
		d.Settings = maps.Clone(s.settings)
	}
	if len(s.secrets) > 0 {
		d.SecretSettings = exportSecrets(s.secrets, withSecrets)
	}
	for _, x := range s.Subnets() {
		d.Subnets = append(d.Subnets, *x)
	}
	for _, x := range s.Images() {
		d.Images = append(d.Images, *x)
	}
	for _, x := range s.Profiles() {
		p := *x
		p.SecretSettings = exportSecrets(p.SecretSettings, withSecrets)
		d.Profiles = append(d.Profiles, p)
	}
	for _, x := range s.Systems() {
		c := x.Clone()
		if c.BMC != nil && !withSecrets {
			c.BMC.Password = ""
		}
		if !withSecrets {
			c.BuildToken = ""
		}
		c.SecretSettings = exportSecrets(c.SecretSettings, withSecrets)
		d.Systems = append(d.Systems, c)
	}
	d.Records = s.Records()
	for _, name := range slices.Sorted(maps.Keys(s.templates)) {
		d.Templates = append(d.Templates, *s.templates[name])
	}
	for _, x := range slices.Sorted(maps.Keys(s.rules)) {
		d.Rules = append(d.Rules, *s.rules[x])
	}
	d.Hooks = exportHooks(s, withSecrets)
	for _, x := range s.Users() {
		d.Users = append(d.Users, *x)
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&d); err != nil {
		return nil, err
	}
	return buf.Bytes(), enc.Close()
}

// ImportReport says what an import did (or, dry, would do).
type ImportReport struct {
	Added     []string `json:"added"`
	Changed   []string `json:"changed"`
	Unchanged int      `json:"unchanged"`
}

// Import applies a Document, all or nothing: objects that do not exist
// are added, objects that differ are replaced, nothing is removed. Every
// problem is reported (as Errors) and nothing is committed. A large
// document's systems are written, in the commit's transaction, while the
// later ones are still checked (opStream): a failure rolls it back. With
// dryRun nothing is written at all.
func (r *Registry) Import(ctx context.Context, data []byte, dryRun bool) (*ImportReport, error) {
	d, chunks, err := decodeDocument(data, r.Snapshot().Zone)
	if err != nil {
		return nil, invalidf("import: %v", err)
	}
	rep, err := r.importDocument(ctx, &d, chunks, dryRun)
	if errors.Is(err, errChunk) { // the whole decode's error, or its systems
		if d, err = decodeWhole(data); err != nil {
			return nil, invalidf("import: %v", err)
		}
		rep, err = r.importDocument(ctx, &d, nil, dryRun)
	}
	return rep, err
}

// errChunk: a chunk of the document's systems did not decode.
var errChunk = errors.New("import: a chunk of systems does not decode")

// importDocument applies d, whose systems are d.Systems or, still being
// decoded, chunks.
func (r *Registry) importDocument(ctx context.Context, d *Document, chunks *systemChunks, dryRun bool) (*ImportReport, error) {
	if chunks != nil {
		defer chunks.stop() // a change refused before its systems were read leaves none to decode
	}
	rep := &ImportReport{}
	_, err := r.mutate(ctx, dryRun, func(n *Snapshot) ([]Op, error) {
		imp := importer{policy: r.recordPolicy, now: r.now()}
		count := len(d.Systems)
		if chunks != nil {
			count = chunks.count
		}
		imp.ops = make([]Op, 0, count+16) // most of a large document: sized once
		if chunks != nil && !dryRun {
			imp.stream = r.beginStream(ctx, n)
		}
		if !imp.run(n, d, chunks) {
			return nil, errChunk
		}
		imp.auditAdds()
		rep.Added, rep.Changed, rep.Unchanged = imp.added, imp.changed, imp.unchanged
		if len(imp.errs) > 0 {
			return nil, imp.errs
		}
		return imp.ops, nil
	})
	return rep, err
}

type importer struct {
	now            time.Time
	policy         RecordPolicy
	ops            []Op
	errs           Errors
	added, changed []string
	unchanged      int
	adds           []int // the ops that add an object: their Audit.New is rendered at the end
	rendered       int   // of adds, those whose Audit.New is rendered
	// stream takes the ops checked so far, a chunk of systems at a time,
	// and writes them while the later systems are checked; nil: the
	// commit writes them all.
	stream *opStream
	sent   int // of ops, those handed to stream
}

// beginStream begins the commit of n's change, for its ops to be written
// as they are checked; nil when the store cannot (the commit then
// writes them all, and reports what begin would have).
func (r *Registry) beginStream(ctx context.Context, n *Snapshot) *opStream {
	st, ok := r.store.(*SQLStore)
	if !ok {
		return nil
	}
	w, err := st.beginStream(ctx, n.Serial, r.now().UTC().Format(time.RFC3339Nano), ActorOf(ctx))
	if err != nil {
		return nil
	}
	n.pending.stream = w
	return w
}

// send hands the ops made since the last send to the stream, with their
// additions' JSON, unless a check failed already (the change will not
// commit).
func (im *importer) send() {
	if im.stream == nil || len(im.errs) > 0 {
		return
	}
	im.auditAdds()
	im.stream.send(im.ops[im.sent:])
	im.sent = len(im.ops)
}

// auditAdds renders the JSON of the objects the import adds (since the
// last call), on every CPU: at 100,000 systems, half a second of one
// CPU. Nothing changes them once checked (an edit later in the document
// makes a new object).
func (im *importer) auditAdds() {
	adds := im.adds[im.rendered:]
	im.rendered = len(im.adds)
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(adds); i += workers {
				o := &im.ops[adds[i]]
				o.Audit.New = auditJSON(o.Obj)
			}
		})
	}
	wg.Wait()
}

// run checks and applies d on n; false when a chunk of its systems did
// not decode.
func (im *importer) run(n *Snapshot, d *Document, chunks *systemChunks) bool {
	for _, key := range slices.Sorted(maps.Keys(d.Settings)) {
		// Keys are stored in lower case: "LVS.VRID" is lvs.vrid, here as
		// for setting set, or the write would go to another row.
		k, err := CheckSettingKey(key)
		if err != nil {
			im.errs = append(im.errs, err)
			continue
		}
		old, had := n.settings[k]
		im.put(ObjSetting, k, had, &Setting{Key: k, Value: old}, func() (any, error) { return n.setSetting(k, d.Settings[key]) })
	}
	for _, key := range slices.Sorted(maps.Keys(d.SecretSettings)) {
		if _, both := d.Settings[key]; both {
			im.errs = append(im.errs, invalidf("global: setting %s is both a secret setting and an ordinary one in the document", key))
			continue
		}
		_, ops, err := n.setSecretSetting(key, d.SecretSettings[key])
		if err != nil {
			im.errs = append(im.errs, err)
			continue
		}
		for _, o := range ops {
			switch {
			case o.Kind == ObjSetting:
				im.changed = append(im.changed, "setting "+o.Audit.Name+" (moved to the secret settings)")
			case o.Prev == "":
				im.added = append(im.added, "secret-setting "+o.Name)
			default:
				im.changed = append(im.changed, "secret-setting "+o.Name)
			}
		}
		if len(ops) == 0 {
			im.unchanged++
		}
		im.ops = append(im.ops, ops...)
	}
	for _, x := range d.Templates {
		old, had := n.templates[x.Name]
		im.put(ObjTemplate, x.Name, had, old, func() (any, error) { return n.putTemplate(x) })
	}
	for _, x := range d.Subnets {
		old, had := n.subnets[x.Name]
		im.put(ObjSubnet, x.Name, had, subnetOf(old), func() (any, error) { return n.putSubnet(prevIf(had, x.Name), x) })
	}
	for _, x := range d.Images {
		old, had := n.images[x.Name]
		im.put(ObjImage, x.Name, had, old, func() (any, error) { return n.putImage(prevIf(had, x.Name), x) })
	}
	for _, x := range d.Profiles {
		old, had := n.profiles[x.Name]
		im.put(ObjProfile, x.Name, had, old, func() (any, error) { return n.putProfile(prevIf(had, x.Name), x) })
	}
	for _, x := range d.Images { // once the profiles are in: they may change loader
		if err := n.checkImageLoaders(x.Name); err != nil {
			im.errs = append(im.errs, err)
		}
	}
	for _, x := range d.Profiles {
		im.ops = append(im.ops, n.followProfile(x.Name, im.now)...)
	}
	checked := 0
	putSystem := func(x System, norm *normalized) {
		old, had := n.systems.Get(x.Name)
		im.put(ObjSystem, x.Name, had, old, func() (any, error) { return n.putNormalized(prevIf(had, x.Name), x, norm, true, im.now) })
		if checked++; checked%chunkEntries == 0 {
			im.send()
		}
	}
	for _, x := range d.Systems {
		putSystem(x, nil)
	}
	if chunks != nil && !chunks.each(putSystem) {
		return false
	}
	for _, x := range d.Rules { // once the profiles and subnets they name are in
		old, had := n.rules[x.Name]
		im.put(ObjRule, x.Name, had, old, func() (any, error) { return n.putRule(prevIf(had, x.Name), x) })
	}
	for _, x := range d.Hooks {
		old, had := n.hooks[x.Name]
		im.put(ObjHook, x.Name, had, old, func() (any, error) { return n.putHook(prevIf(had, x.Name), x) })
	}
	for _, x := range d.Users { // once the subnets and profiles their scopes name are in
		old, had := n.users[x.Name]
		im.put(ObjUser, x.Name, had, old, func() (any, error) { return n.putUser(prevIf(had, x.Name), x, true) })
	}
	for _, text := range d.Records {
		rec, isNew, err := n.addRecord(text, im.policy)
		switch {
		case err != nil:
			im.errs = append(im.errs, err)
		case isNew:
			im.added = append(im.added, "record "+rec.RR)
			im.ops = append(im.ops, op(ObjRecord, "", nil, rec, rec.RR, "add"))
		default:
			im.unchanged++
		}
	}
	return true
}

func (im *importer) put(kind, name string, had bool, old any, apply func() (any, error)) {
	obj, err := apply()
	if err != nil {
		im.errs = append(im.errs, err)
		return
	}
	label := kind + " " + name
	switch {
	case !had:
		im.added = append(im.added, label)
		im.adds = append(im.adds, len(im.ops))
		im.ops = append(im.ops, opNoJSON(kind, "", nil, obj, name, "add"))
	case sameObject(old, obj):
		im.unchanged++
	default:
		im.changed = append(im.changed, label)
		verb := "edit"
		if kind == ObjSetting {
			verb = "set"
		}
		im.ops = append(im.ops, op(kind, name, old, obj, name, verb))
	}
}

func prevIf(had bool, name string) string {
	if had {
		return name
	}
	return ""
}

func subnetOf(e *subnetEntry) *Subnet {
	if e == nil {
		return nil
	}
	return &e.Subnet
}

func sameObject(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if !maps.Equal(secretsOf(a), secretsOf(b)) {
		return false
	}
	if sa, ok := a.(*System); ok {
		return string(ja) == string(jb) && bmcPassword(sa) == bmcPassword(b.(*System))
	}
	return string(ja) == string(jb)
}

// exportSecrets is m as an export shows it: with the values when
// withSecrets, else the keys only.
func exportSecrets[M ~map[string]Secret](m M, withSecrets bool) M {
	if len(m) == 0 {
		return nil
	}
	out := maps.Clone(m)
	if !withSecrets {
		for k := range out {
			out[k] = ""
		}
	}
	return out
}
